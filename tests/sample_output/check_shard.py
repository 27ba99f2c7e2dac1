#!/usr/bin/python3
"""Reads a synshard output as a user would, with h5py, numpy, OpenCV and PIL only.

Runs the sample writer into WORKDIR/encoded and WORKDIR/raw, then checks every shard
against the layout in docs/FORMAT.md and the manifest, decodes every image with both
OpenCV and PIL, and resolves every key through index.h5. Exits non-zero on any mismatch.
"""
import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys

import cv2
import h5py
import numpy as np
from PIL import Image


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def check_offsets(offsets, n, total, name):
    check(offsets.dtype == np.uint64, f"{name} is {offsets.dtype}, not uint64")
    check(offsets.shape == (n + 1,), f"{name} has shape {offsets.shape} for {n} samples")
    check(offsets[0] == 0 and offsets[-1] == total, f"{name} does not span 0..{total}")
    check(np.all(np.diff(offsets.astype(np.int64)) >= 0), f"{name} decreases")


def check_image_chunks(image_bytes, path):
    """The image chunks fit the payload: the last one is not padded up to a whole chunk."""
    payload = len(image_bytes)
    chunk = image_bytes.chunks[0]
    chunks = -(-payload // chunk)
    check(chunk <= 64 * 1024, f"{path}: image chunks of {chunk} bytes")
    # Fletcher32 stores 4 bytes with each chunk; the padding is under one byte per chunk.
    padding = image_bytes.id.get_storage_size() - payload - 4 * chunks
    check(0 <= padding < max(chunks, 1), f"{path}: {padding} bytes of image chunk padding")


def check_shard(path, manifest_entry, raw):
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    check(digest == manifest_entry["sha256"], f"{path}: sha256 differs from the manifest")
    check(os.path.getsize(path) == manifest_entry["bytes"], f"{path}: size differs")
    keys_seen = []
    with h5py.File(path, "r") as shard:
        n = int(shard.attrs["num_samples"])
        check(n == manifest_entry["num_samples"], f"{path}: num_samples differs")
        # 2 and 3 share the shards' layout (docs/FORMAT.md, "Versions").
        check(int(shard.attrs["format_version"]) in (2, 3), "format_version")
        check(text(shard.attrs["split"]) in ("train", "val"), "split attribute")
        check(0 <= shard.attrs["shard_index"] < shard.attrs["shard_count"], "shard_index")
        encoding = text(shard.attrs["encoding"])
        check((encoding == "raw") == raw, f"encoding {encoding}")
        synset_table = [text(s) for s in shard["classes/synsets"][:]]
        ancestor_offsets = shard["classes/ancestor_offsets"][:]
        check_offsets(ancestor_offsets, len(synset_table), len(shard["classes/ancestors"]),
                      "classes/ancestor_offsets")
        check(len(shard["classes/words"]) == len(synset_table), "classes/words length")

        labels = shard["labels"][:]
        check(labels.dtype == np.int32 and labels.shape == (n,), "labels dtype/shape")
        check(np.all((labels >= 0) & (labels < len(synset_table))), "label out of range")
        synsets = [text(s) for s in shard["synsets"][:]]
        check(synsets == [synset_table[l] for l in labels], "synsets disagree with labels")
        key_type = h5py.check_string_dtype(shard["keys"].dtype)
        check(key_type is not None and key_type.encoding == "utf-8", "keys are not UTF-8 strings")
        keys = shard["keys"].asstr()[:]
        check(len(keys) == n, "keys length")
        check(key_type.length == max([len(k.encode()) for k in keys], default=1),
              f"keys are {key_type.length}-byte strings, not as long as the longest key")
        keys_seen = list(keys)
        sizes = shard["sizes"][:]
        orig_sizes = shard["orig_sizes"][:]
        check(sizes.shape == (n, 2) and orig_sizes.shape == (n, 2), "sizes shape")
        source_sha = shard["source_sha256"][:]
        check(source_sha.shape == (n, 32) and source_sha.dtype == np.uint8, "source_sha256")

        bbox_offsets = shard["bbox_offsets"][:]
        boxes = shard["bboxes"][:]
        box_labels = shard["bbox_labels"][:]
        check(boxes.dtype == np.float32 and boxes.shape == (len(box_labels), 4), "bboxes")
        check_offsets(bbox_offsets, n, len(box_labels), "bbox_offsets")
        check(shard["image_bytes" if not raw else "images"].fletcher32, "image data has no Fletcher32")

        if not raw:
            offsets = shard["image_offsets"][:]
            check_offsets(offsets, n, len(shard["image_bytes"]), "image_offsets")
            check_image_chunks(shard["image_bytes"], path)
        for i in range(n):
            height, width = (int(v) for v in sizes[i])
            if raw:
                pixels = shard["images"][i]
                check(pixels.shape[2] == 3 and height <= pixels.shape[0] and width <= pixels.shape[1],
                      f"{keys[i]}: content {height}x{width} outside {pixels.shape}")
            else:
                encoded = shard["image_bytes"][offsets[i]:offsets[i + 1]].tobytes()
                check(hashlib.sha256(encoded).digest() == source_sha[i].tobytes(),
                      f"{keys[i]}: stored bytes are not the source bytes")
                bgr = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR)
                check(bgr is not None, f"{keys[i]}: OpenCV cannot decode")
                rgb = np.asarray(Image.open(io.BytesIO(encoded)).convert("RGB"))
                check(bgr.shape == (height, width, 3), f"{keys[i]}: OpenCV {bgr.shape} vs {sizes[i]}")
                check(rgb.shape == (height, width, 3), f"{keys[i]}: PIL {rgb.shape} vs {sizes[i]}")
                difference = np.abs(bgr[:, :, ::-1].astype(int) - rgb.astype(int)).mean()
                check(difference < 2.0, f"{keys[i]}: OpenCV and PIL disagree by {difference}")
            for b in range(bbox_offsets[i], bbox_offsets[i + 1]):
                xmin, ymin, xmax, ymax = boxes[b]
                check(0 <= xmin < xmax <= width and 0 <= ymin < ymax <= height,
                      f"{keys[i]}: box {boxes[b]} outside {width}x{height}")
                check(box_labels[b] == labels[i], f"{keys[i]}: box label")
        return keys_seen, labels


def check_output(out, raw):
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    shard_keys = {}
    shard_labels = {}
    for split, entry in manifest["splits"].items():
        check(entry["num_samples"] == sum(s["num_samples"] for s in entry["shards"]),
              f"{split}: num_samples")
        for shard in entry["shards"]:
            keys, labels = check_shard(os.path.join(out, shard["path"]), shard, raw)
            shard_keys[shard["path"]] = keys
            shard_labels[shard["path"]] = labels

    # Open the index from elsewhere: virtual datasets resolve their relative paths
    # against the index's own directory.
    os.chdir("/")
    with h5py.File(os.path.join(out, "index.h5"), "r") as index:
        synsets = [text(s) for s in index["classes/synsets"][:]]
        nodes = index["classes/nodes"][:]
        wnids = [text(s) for s in index["hierarchy/wnids"][:]]
        check([wnids[n] for n in nodes] == synsets, "classes/nodes do not point at the classes")
        edges = index["hierarchy/edges"][:]
        check(edges.ndim == 2 and edges.shape[1] == 2 and np.all(edges < len(wnids)), "edges")
        for split, entry in manifest["splits"].items():
            group = index["splits"][split]
            paths = list(group["shard_paths"].asstr()[:])
            check(paths == [s["path"] for s in entry["shards"]], f"{split}: shard_paths")
            keys = list(group["keys"].asstr()[:])
            check([k.encode() for k in keys] == sorted(k.encode() for k in keys),
                  f"{split}: keys not sorted bytewise")
            found = 0
            for key, shard, row in zip(keys, group["key_shards"][:], group["key_rows"][:]):
                check(shard_keys[paths[shard]][row] == key, f"{split}: {key} not at {shard}/{row}")
                found += 1
            check(found == entry["num_samples"], f"{split}: index holds {found} keys")
            all_labels = np.concatenate([shard_labels[p] for p in paths])
            check(np.array_equal(group["labels"][:], all_labels), f"{split}: virtual labels")
            if raw:
                images = group["images"]
                check(images.is_virtual and images.shape[0] == entry["num_samples"], "images VDS")
                for p, first in zip(paths, np.cumsum([0] + [len(shard_keys[p]) for p in paths])):
                    with h5py.File(os.path.join(out, p), "r") as shard:
                        check(np.array_equal(images[first:first + len(shard["images"])],
                                             shard["images"][:]), f"{split}: virtual images")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--writer", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    writer = os.path.abspath(args.writer)
    workdir = os.path.abspath(args.workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    for name, raw in (("encoded", False), ("raw", True)):
        out = os.path.join(workdir, name)
        subprocess.run([writer, out] + (["raw"] if raw else []), check=True)
        check_output(out, raw)
        print(f"{name}: ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
