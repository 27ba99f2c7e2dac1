"""synshard for PyTorch: the loader as an IterableDataset, and a map-style Dataset.

    import torch.utils.data, synshard, synshard.torch
    batches = synshard.torch.Batches("sample/out", "train", batch_size=256,
                                     transform=synshard.TrainTransform(224), threads=2,
                                     rank=rank, world_size=world_size)
    loader = torch.utils.data.DataLoader(batches, batch_size=None, num_workers=2)
    for epoch in range(90):
        batches.set_epoch(epoch)
        for batch in loader:   # images uint8 N x H x W x 3, labels int64 N, keys, indices
            ...

`batch_size=None` because the batches come made. With num_workers=K, worker w yields
the rank's batches w, w + K, w + 2K, ... and DataLoader takes them round-robin, so the
stream is the same batch for batch as with num_workers=0, under fork and spawn alike.
Each worker makes its own loader in its own process: no HDF5 handle crosses a fork.
set_epoch reaches workers started after it (DataLoader starts them at each `for`,
unless persistent_workers=True).
"""
import os

import numpy as np
import torch
import torch.utils.data

from . import Loader, open as open_output

__all__ = ["Batches", "Samples"]


def _shared_images(images, fd):
    """`images` as a tensor over their shared memory, mapped through `fd` (which torch
    dup()s): DataLoader's pickling finds the storage shared and sends the descriptor,
    where it would copy a 64 x 224 x 224 x 3 batch's 9.6 MB into new shared memory."""
    storage = torch.UntypedStorage._new_shared_fd_cpu(fd, images.nbytes)
    return torch.empty(0, dtype=torch.uint8).set_(storage, 0, images.shape)


class _Inline(torch.Tensor):
    """A tensor that pickles as its values. DataLoader's queue passes a tensor's storage
    as a descriptor, each over its own authenticated socket connection (most of what a
    batch costs beyond its pixels); a worker's small tensors (labels, indices, boxes)
    travel in the message itself instead, and arrive as plain tensors."""

    def __reduce_ex__(self, protocol):
        return torch.from_numpy, (self.numpy(),)


def _inline(array):
    return torch.from_numpy(array).as_subclass(_Inline)


def _tensors(batch):
    out = dict(batch)
    fd = out.pop("images_fd", None)
    if fd is None:
        out["images"] = torch.from_numpy(batch["images"])
        small = torch.from_numpy
    else:
        out["images"] = _shared_images(batch["images"], fd)
        small = _inline
    # CrossEntropyLoss takes int64 class indices.
    out["labels"] = small(batch["labels"].astype(np.int64))
    out["indices"] = small(batch["indices"].astype(np.int64))
    if "boxes" in batch:
        out["boxes"] = [small(boxes) for boxes in batch["boxes"]]
    return out


class Batches(torch.utils.data.IterableDataset):
    """synshard.Loader's batches as torch tensors, one epoch per iteration, shared out
    to DataLoader workers by batch number. The arguments are synshard.Loader's; threads
    are per worker."""

    def __init__(self, out, split, batch_size, **options):
        super().__init__()
        self.out, self.split, self.batch_size = os.fspath(out), split, batch_size
        self.options = options
        # Checks the arguments, and counts the batches, in this process; it is not kept.
        self._batches = len(Loader(self.out, split, batch_size, **options))

    def set_epoch(self, epoch):
        self.options["epoch"] = epoch

    def __len__(self):
        return self._batches

    def __iter__(self):
        worker = torch.utils.data.get_worker_info()
        share = (worker.id, worker.num_workers) if worker is not None else (0, 1)
        # A worker's batches cross to the main process: in the loader's shared memory, where
        # this torch can map it (the call is torch's own, not public: without it, copied).
        shared = worker is not None and hasattr(torch.UntypedStorage, "_new_shared_fd_cpu")
        loader = Loader(self.out, self.split, self.batch_size, worker=share,
                        share_images=shared, **self.options)
        for batch in loader:
            yield _tensors(batch)


class Samples(torch.utils.data.Dataset):
    """A split as a map-style Dataset of decoded samples: image (uint8 H x W x 3 tensor),
    label, wnid, boxes (float32 k x 4 tensor), key; `transform` (optional) is applied to
    the dict. Files open per process on first use (a forked worker opens its own, a spawned
    one unpickles the output's path)."""

    def __init__(self, out, split, transform=None):
        self.samples = open_output(out)[split]
        self.transform = transform

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        sample = self.samples[index]
        sample["image"] = torch.from_numpy(sample["image"])
        sample["boxes"] = torch.from_numpy(sample["boxes"])
        return self.transform(sample) if self.transform else sample
