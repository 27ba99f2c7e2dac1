#!/usr/bin/python3
"""Runs README.md's examples where the quickstart leaves the repository.

Usage: run_readme_examples.py README.md WORKDIR

Runs every fenced block that directly follows a `<!-- readme-test -->` line: ```sh
blocks with bash -euo pipefail, ```python blocks with Debian's /usr/bin/python3, in
WORKDIR (prepared by make_sample_output.py). A block fails the test when it exits
non-zero or prints a Traceback. Exits with the number of failed blocks.
"""
import re
import subprocess
import sys


def main():
    readme, workdir = sys.argv[1], sys.argv[2]
    with open(readme) as f:
        text = f.read()
    blocks = re.findall(r"<!-- readme-test -->\n```(sh|python)\n(.*?)```", text, re.S)
    if not blocks:
        print("README.md has no <!-- readme-test --> blocks", file=sys.stderr)
        return 1
    failed = 0
    for language, code in blocks:
        command = ["bash", "-euo", "pipefail", "-c", code] if language == "sh" else \
            ["/usr/bin/python3", "-c", code]
        run = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
        status = "ok" if run.returncode == 0 and "Traceback" not in run.stderr else "FAILED"
        print(f"--- {language} block ({status}, exit {run.returncode}):\n{code}"
              f"--- output:\n{run.stdout}{run.stderr}", flush=True)
        failed += status != "ok"
    print(f"{len(blocks) - failed} of {len(blocks)} README blocks ran", flush=True)
    return failed


if __name__ == "__main__":
    sys.exit(main())
