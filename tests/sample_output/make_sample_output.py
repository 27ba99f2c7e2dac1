#!/usr/bin/python3
"""Writes WORKDIR/sample/out as `bash cluster/quickstart.sh sample` does (single rank).

Usage: make_sample_output.py SYNSHARD SOURCE_DIR WORKDIR

WORKDIR then looks like the repository after the quickstart: sample/corpus, sample/out,
build/src/synshard (a link to SYNSHARD) and jobs (a link to SOURCE_DIR/jobs), so the
README's examples run there as written.
"""
import os
import shutil
import subprocess
import sys


def main():
    synshard, source, workdir = (os.path.abspath(a) for a in sys.argv[1:4])
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(os.path.join(workdir, "build", "src"))
    os.symlink(synshard, os.path.join(workdir, "build", "src", "synshard"))
    os.symlink(os.path.join(source, "jobs"), os.path.join(workdir, "jobs"))
    job = os.path.join(source, "jobs", "sample.ini")
    subprocess.run([synshard, "synth", "--config", job], cwd=workdir, check=True)
    converted = subprocess.run([synshard, "convert", "--config", job, "--quiet"], cwd=workdir)
    # 3: completed with rejected inputs, as the sample's traps intend.
    if converted.returncode not in (0, 3):
        print(f"convert exited with {converted.returncode}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
