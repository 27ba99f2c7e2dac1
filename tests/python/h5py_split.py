"""A split read with h5py alone: what the Python tests hold synshard's reads against.

Imported by the tests beside it (python3 puts a script's directory on sys.path).
"""
import os

import h5py


def split_from_h5py(out, split):
    """Every sample of the split at `out` in global order (shard 0's rows, then shard 1's,
    ...): key, label, wnid, the stored image bytes and the boxes."""
    with h5py.File(os.path.join(out, "index.h5"), "r") as index:
        paths = index[f"splits/{split}/shard_paths"].asstr()[:]
    samples = []
    for path in paths:
        with h5py.File(os.path.join(out, path), "r") as f:
            offsets, box_offsets = f["image_offsets"][:], f["bbox_offsets"][:]
            image_bytes, boxes = f["image_bytes"][:], f["bboxes"][:]
            for row, (key, label, wnid) in enumerate(zip(f["keys"].asstr()[:], f["labels"][:],
                                                         f["synsets"].asstr()[:])):
                samples.append({
                    "key": key, "label": int(label), "wnid": wnid,
                    "bytes": image_bytes[offsets[row]:offsets[row + 1]],
                    "boxes": boxes[box_offsets[row]:box_offsets[row + 1]]})
    return samples
