#!/usr/bin/python3
"""Reads a converted synshard output as a user would: h5py, numpy, OpenCV and PIL only.

Usage: read_converted_output.py OUT

Checks every shard of OUT against docs/FORMAT.md and manifest.json, decodes every image
with OpenCV and PIL, resolves every key through index.h5, and recomputes the train mean
of the manifest. Exits non-zero on any mismatch. (The synshard package's reading is
tests/python/*.)
"""
import io
import json
import os
import sys

import cv2
import h5py
import numpy as np
from PIL import Image


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def read_split(out, split, entry, classes):
    """Every sample of the split in global order: (key, label, rgb, boxes)."""
    samples = []
    for shard_entry in entry["shards"]:
        with h5py.File(os.path.join(out, shard_entry["path"]), "r") as f:
            n = int(f.attrs["num_samples"])
            check(n == shard_entry["num_samples"], f"{shard_entry['path']}: num_samples")
            check(f.attrs["split"] == split, "split attribute")
            check(f.attrs["encoding"] == "jpeg", "the sample output is JPEG")
            words = list(f["classes/words"].asstr()[:])
            check(words == [c["words"] for c in classes], "class words differ from manifest")
            offsets, labels = f["image_offsets"][:], f["labels"][:]
            image_bytes = f["image_bytes"]
            chunks = -(-len(image_bytes) // image_bytes.chunks[0])
            padding = image_bytes.id.get_storage_size() - len(image_bytes) - 4 * chunks
            check(0 <= padding < max(chunks, 1),
                  f"{shard_entry['path']}: {padding} bytes of image chunk padding")
            synsets = [s.decode() for s in f["synsets"][:]]
            keys = list(f["keys"].asstr()[:])
            sizes, box_offsets, boxes = f["sizes"][:], f["bbox_offsets"][:], f["bboxes"][:]
            for i in range(n):
                encoded = f["image_bytes"][offsets[i]:offsets[i + 1]]
                bgr = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
                pil = np.asarray(Image.open(io.BytesIO(encoded.tobytes())).convert("RGB"))
                height, width = (int(v) for v in sizes[i])
                check(bgr.shape == (height, width, 3), f"{keys[i]}: {bgr.shape} vs {sizes[i]}")
                check(np.abs(bgr[:, :, ::-1].astype(int) - pil).mean() < 2, f"{keys[i]}: PIL")
                check(synsets[i] == classes[labels[i]]["synset"], f"{keys[i]}: synset")
                mine = boxes[box_offsets[i]:box_offsets[i + 1]]
                check(np.all((mine[:, 0] >= 0) & (mine[:, 2] <= width) & (mine[:, 0] < mine[:, 2])
                             & (mine[:, 1] >= 0) & (mine[:, 3] <= height) & (mine[:, 1] < mine[:, 3])),
                      f"{keys[i]}: boxes outside {width}x{height}")
                samples.append((keys[i], int(labels[i]), bgr[:, :, ::-1], mine))
    return samples


def check_index(out, split, samples, shard_sizes):
    with h5py.File(os.path.join(out, "index.h5"), "r") as index:
        group = index["splits"][split]
        keys = list(group["keys"].asstr()[:])
        check(keys == sorted(keys, key=lambda k: k.encode()), f"{split}: keys not sorted")
        check(sorted(keys) == sorted(s[0] for s in samples), f"{split}: keys differ")
        starts = np.cumsum([0] + shard_sizes)
        for key, shard, row in zip(keys, group["key_shards"][:], group["key_rows"][:]):
            check(samples[starts[shard] + row][0] == key, f"{split}: {key} misplaced")
        check(list(group["labels"][:]) == [s[1] for s in samples], f"{split}: virtual labels")


def check_mean(samples, manifest):
    sums = np.zeros(3)
    for _, _, rgb, _ in samples:
        sums += rgb.reshape(-1, 3).sum(axis=0)
    pixels = sum(s[2].shape[0] * s[2].shape[1] for s in samples)
    # OpenCV's JPEG decoder may round a few pixels differently from the converter's.
    check(np.allclose(sums / pixels, manifest["stats"]["mean"], atol=0.5),
          f"mean {sums / pixels} vs manifest {manifest['stats']['mean']}")


def main():
    out = os.path.abspath(sys.argv[1])
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    by_split = {}
    for split, entry in manifest["splits"].items():
        samples = read_split(out, split, entry, manifest["classes"])
        check(len(samples) == entry["num_samples"], f"{split}: sample count")
        check_index(out, split, samples, [s["num_samples"] for s in entry["shards"]])
        by_split[split] = samples
        print(f"{split}: {len(samples)} samples ok", flush=True)
    check_mean(by_split["train"], manifest)
    print("train mean ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
