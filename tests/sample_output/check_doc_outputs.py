#!/usr/bin/python3
"""Docs.sample_outputs: what README.md and docs/*.md quote of the sample job, compared
with a real run of it, so that the next change that moves a number fails.

Usage: check_doc_outputs.py SOURCE_DIR WORKDIR

WORKDIR is laid out by make_sample_output.py (sample/out, build/src/synshard). Checked:

- every block that follows a `<!-- output-of: COMMAND -->` line (indented by four spaces,
  or fenced): COMMAND runs with bash in WORKDIR and its standard output and error must
  equal the block line for line, after normalise(): tabs read as two spaces, and the
  numbers of timings ("in 3 s", "3.2 img/s") and of the sizes that include them (the
  manifest holds the timings) are not compared;
- FORMAT.md's worked example, fact by fact: the listing of the files with their bytes
  and samples, the JSON excerpts of manifest.json, and every `dataset[row] = value`,
  `image_bytes[a:b]` and count its prose names, read back with h5py.

Prints every difference; exits with their number.
"""
import json
import os
import re
import subprocess
import sys

import h5py

failures = []


def fail(where, message):
    failures.append(f"{where}: {message}")
    print(f"FAIL {where}: {message}", flush=True)


TIMING = re.compile(r"\b\d+(\.\d+)?( s\b| img/s\b| min\b| h\b)")


def normalise(line):
    line = line.replace("\t", "  ").rstrip()
    return TIMING.sub(r"N\2", line)


def quoted_blocks(path):
    """(line number, command, quoted lines) for each output-of marker of a file."""
    with open(path) as f:
        lines = f.read().split("\n")
    blocks = []
    for number, line in enumerate(lines):
        marker = re.fullmatch(r"<!-- output-of: (.*) -->", line.strip())
        if not marker:
            continue
        at = number + 1
        while at < len(lines) and not lines[at].strip():
            at += 1
        quoted = []
        if lines[at].startswith("```"):
            at += 1
            while not lines[at].startswith("```"):
                quoted.append(lines[at])
                at += 1
        else:
            while at < len(lines) and (lines[at].startswith("    ") or not lines[at].strip()):
                if not lines[at].strip() and (at + 1 >= len(lines) or
                                              not lines[at + 1].startswith("    ")):
                    break
                quoted.append(lines[at][4:])
                at += 1
        blocks.append((number + 1, marker.group(1), quoted))
    return blocks


def check_quoted_outputs(source, workdir):
    documents = [os.path.join(source, "README.md")] + sorted(
        os.path.join(source, "docs", name) for name in os.listdir(os.path.join(source, "docs"))
        if name.endswith(".md"))
    checked = 0
    for document in documents:
        for number, command, quoted in quoted_blocks(document):
            where = f"{os.path.relpath(document, source)}:{number}"
            run = subprocess.run(["bash", "-c", command], cwd=workdir, capture_output=True,
                                 text=True)
            actual = [normalise(line) for line in (run.stdout + run.stderr).rstrip("\n").split("\n")]
            expected = [normalise(line) for line in quoted]
            checked += 1
            if actual != expected:
                diff = "\n".join(f"  quoted: {e}\n  actual: {a}" for e, a in
                                 zip(expected + [""] * len(actual), actual + [""] * len(expected))
                                 if e != a)
                fail(where, f"`{command}` prints otherwise than quoted:\n{diff}")
    if checked < 3:
        fail("README.md", f"only {checked} output-of blocks: the markers are gone")
    print(f"{checked} quoted outputs compared", flush=True)


def check_worked_example(source, workdir):
    with open(os.path.join(source, "docs", "FORMAT.md")) as f:
        text = f.read()
    start = text.index("## Worked example: the sample output")
    example = text[start:text.index("\n## ", start + 1) if "\n## " in text[start + 1:] else None]
    out = os.path.join(workdir, "sample", "out")
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    where = "docs/FORMAT.md worked example"

    # The listing: "sample/out/PATH   BYTES bytes   [N samples]".
    samples = {s["path"]: s["num_samples"] for split in manifest["splits"].values()
               for s in split["shards"]}
    listed = re.findall(r"^sample/out/(\S+)\s+(\d+) bytes(?:\s+(\d+) samples)?$", example, re.M)
    if len(listed) != len(samples) + 2:
        fail(where, f"lists {len(listed)} files, the output has {len(samples) + 2}")
    for path, size, count in listed:
        actual = os.path.getsize(os.path.join(out, path))
        # manifest.json holds the run's timings: its size varies with them.
        if path != "manifest.json" and int(size) != actual:
            fail(where, f"{path} is {actual} bytes, not {size}")
        if count and int(count) != samples.get(path):
            fail(where, f"{path} holds {samples.get(path)} samples, not {count}")

    inputs = re.search(r"Its (\d+) inputs", example)
    if not inputs or int(inputs.group(1)) != manifest["scanned"]:
        fail(where, f"the run scanned {manifest['scanned']} inputs")

    # The JSON excerpts: rejected entries, classes, leaks and stats.
    for line in re.findall(r'^(\{"key": .*\}),?$', example, re.M):
        if json.loads(line) not in manifest["rejected"]:
            fail(where, f"{line} is not in manifest.json's rejected list")
    for entry in re.findall(r'\{"label": (\d+), "synset": "(n\d+)", "words": "([^"]*)",\s*'
                            r'"counts": (\{[^}]*\})\}', example):
        actual = manifest["classes"][int(entry[0])]
        if [actual["synset"], actual["words"], actual["counts"]] != \
                [entry[1], entry[2], json.loads(entry[3])]:
            fail(where, f"class {entry[0]} is {actual}")
    leaks = re.search(r'"leaks": (\[.*?\]\}\]),', example, re.S)
    if not leaks or json.loads(leaks.group(1)) != manifest["leaks"]:
        fail(where, f"the leaks are {manifest['leaks']}")
    stats = re.search(r'"stats": (\{"mean": .*?\]\})', example, re.S)
    # Summed in a different order at another rank count, the last digits may differ.
    if not stats or any(abs(q - a) > 1e-9 for key in ("mean", "std") for q, a in
                        zip(json.loads(stats.group(1))[key], manifest["stats"][key])):
        fail(where, f"the stats are {json.dumps(manifest['stats'])}")

    # The prose's index.h5 and shard facts, its lines joined.
    example = re.sub(r"\s+", " ", example)
    index = h5py.File(os.path.join(out, "index.h5"), "r")
    train = index["splits/train"]
    keys = [k.decode() for k in train["keys"][:]]
    key = re.search(r"so\s+`([^`]+)` is row (\d+) of it", example)
    row_in_index = int(key.group(2))
    if keys.index(key.group(1)) != row_in_index:
        fail(where, f"{key.group(1)} is row {keys.index(key.group(1))} of the sorted train keys")
    shard = int(train["key_shards"][row_in_index])
    row = int(train["key_rows"][row_in_index])
    shard_path = train["shard_paths"].asstr()[shard]
    expected = {f"key_shards[{row_in_index}]": str(shard), f"key_rows[{row_in_index}]": str(row),
                f"shard_paths[{shard}]": shard_path}
    for name, value in expected.items():
        quoted = re.search(re.escape(name) + r" = ([^`]+)`", example)
        if not quoted or quoted.group(1) != value:
            fail(where, f"{name} is {value}, quoted {quoted.group(1) if quoted else 'nowhere'}")
    counts = [int(c) for c in train["shard_num_samples"][:]]
    total = re.search(r"global train index is ([\d + ]+) = (\d+)", example)
    terms = counts[:shard] + [row]
    if not total or [int(t) for t in total.group(1).split("+")] != terms or \
            int(total.group(2)) != sum(terms):
        fail(where, f"the global train index is {' + '.join(map(str, terms))} = {sum(terms)}")

    f = h5py.File(os.path.join(out, shard_path), "r")
    def shown(value):
        if isinstance(value, bytes):
            return '"' + value.decode() + '"'
        if getattr(value, "shape", ()) == (2,):
            return f"({int(value[0])}, {int(value[1])})"
        return str(int(value))
    for name in ("keys", "labels", "synsets", "orig_sizes", "sizes"):
        quoted = re.search(rf"`{name}\[{row}\] = ([^`]+)`", example)
        value = shown(f[name][row])
        if not quoted or quoted.group(1) != value:
            fail(where, f"{name}[{row}] is {value}, quoted {quoted.group(1) if quoted else 'nowhere'}")
    offsets = f["image_offsets"]
    begin, end = int(offsets[row]), int(offsets[row + 1])
    quoted = re.search(r"`image_bytes\[(\d+):(\d+)\]`\s*\(`image_offsets\[(\d+):(\d+)\]`, (\d+) bytes",
                       example)
    if not quoted or [int(g) for g in quoted.groups()] != [begin, end, row, row + 2, end - begin]:
        fail(where, f"the image is image_bytes[{begin}:{end}] (image_offsets[{row}:{row + 2}], "
                    f"{end - begin} bytes), quoted {quoted.group(0) if quoted else 'nowhere'}")
    boxes = f["bbox_offsets"]
    quoted = re.search(r"`bbox_offsets\[(\d+):(\d+)\] = \((\d+), (\d+)\)`", example)
    actual = [row, row + 2, int(boxes[row]), int(boxes[row + 1])]
    if not quoted or [int(g) for g in quoted.groups()] != actual:
        fail(where, f"bbox_offsets[{row}:{row + 2}] = ({actual[2]}, {actual[3]})")

    label = int(f["labels"][row])
    ancestors = index["classes/ancestor_offsets"]
    count = int(ancestors[label + 1]) - int(ancestors[label])
    if f"its {count} WordNet ancestors" not in example:
        fail(where, f"class {label} has {count} WordNet ancestors")
    wnids = len(index["hierarchy/wnids"])
    edges = len(index["hierarchy/edges"])
    hierarchy = re.search(r"(\d+)\s+`hierarchy/wnids`, (\d+) `\(parent, child\)` edges", example)
    if not hierarchy or [int(g) for g in hierarchy.groups()] != [wnids, edges]:
        fail(where, f"the hierarchy has {wnids} wnids and {edges} edges")
    node = int(index["classes/nodes"][0])
    if not re.search(rf"maps label 0 to node {node}\b", example):
        fail(where, f"classes/nodes maps label 0 to node {node}")


def main():
    source, workdir = (os.path.abspath(a) for a in sys.argv[1:3])
    check_quoted_outputs(source, workdir)
    check_worked_example(source, workdir)
    print(f"{len(failures)} differences", flush=True)
    return len(failures)


if __name__ == "__main__":
    sys.exit(main())
