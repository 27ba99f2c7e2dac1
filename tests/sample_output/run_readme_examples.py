#!/usr/bin/python3
"""Runs README.md's examples where the quickstart leaves the repository.

Usage: run_readme_examples.py README.md WORKDIR [CPP_EXAMPLE ...]

Runs, in WORKDIR (prepared by make_sample_output.py), every ```python block with
Debian's /usr/bin/python3, every ```cpp block as the program CPP_EXAMPLE built from it
(tests/CMakeLists.txt builds the n-th block as the n-th argument), and every ```sh block
that directly follows a `<!-- readme-test -->` line with bash -euo pipefail (the other
shell blocks start clusters or long conversions). A block fails the test when it exits
non-zero or prints a Traceback; a cpp block without its program (README.md changed since
CMake last ran) fails too. Exits with the number of failed blocks.
"""
import re
import subprocess
import sys

BLOCK = re.compile(r"(<!-- readme-test -->\n)?```(sh|python|cpp)\n(.*?)```", re.S)


def commands(text, cpp_programs):
    """(language, code, command) of each block to run, in README order."""
    cpp_blocks = 0
    for marked, language, code in BLOCK.findall(text):
        if language == "python":
            yield language, code, ["/usr/bin/python3", "-c", code]
        elif language == "cpp":
            program = cpp_programs[cpp_blocks] if cpp_blocks < len(cpp_programs) else None
            cpp_blocks += 1
            yield language, code, [program] if program else None
        elif marked:
            yield language, code, ["bash", "-euo", "pipefail", "-c", code]


def main():
    readme, workdir, cpp_programs = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(readme) as f:
        text = f.read()
    blocks = list(commands(text, cpp_programs))
    if not blocks:
        print("README.md has no blocks to run", file=sys.stderr)
        return 1
    failed = 0
    for language, code, command in blocks:
        if command is None:
            print(f"--- {language} block (FAILED: no program built from it; rerun cmake):\n{code}",
                  flush=True)
            failed += 1
            continue
        run = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
        status = "ok" if run.returncode == 0 and "Traceback" not in run.stderr else "FAILED"
        print(f"--- {language} block ({status}, exit {run.returncode}):\n{code}"
              f"--- output:\n{run.stdout}{run.stderr}", flush=True)
        failed += status != "ok"
    cpp_blocks = sum(language == "cpp" for language, _, _ in blocks)
    if len(cpp_programs) > cpp_blocks:
        print(f"{len(cpp_programs)} programs for {cpp_blocks} cpp blocks", flush=True)
        failed += 1
    print(f"{len(blocks) - failed} of {len(blocks)} README blocks ran "
          f"({sum(l == 'python' for l, _, _ in blocks)} python, {cpp_blocks} cpp, "
          f"{sum(l == 'sh' for l, _, _ in blocks)} sh)", flush=True)
    return failed


if __name__ == "__main__":
    sys.exit(main())
