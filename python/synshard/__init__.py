"""Read synshard outputs (docs/FORMAT.md) from Python.

    import synshard
    out = synshard.open("sample/out")        # the output directory
    train = out["train"]                     # map-style: len(train), train[i]
    sample = train[123]                      # image (RGB uint8 HxWx3), label, wnid, boxes, key
    same = train.by_key(sample["key"])
    stored = out.split("train", decode=False)[123]["image"]   # the stored JPEG bytes
    out.classes[sample["label"]].ancestors   # WordNet ancestors of the class

Training batches come from `Loader` (C++ threads read, decode and crop; numpy out), and
through `synshard.torch` (imported on its own, so `import synshard` never needs torch):

    loader = synshard.Loader("sample/out", "train", batch_size=256,
                             transform=synshard.TrainTransform(224), seed=0, threads=2)
    for epoch in range(90):
        loader.set_epoch(epoch)
        for batch in loader:                 # images uint8 NxHxWx3, labels int32 N, keys
            ...

Reading and decoding run in C++ with the GIL released. The package lives beside h5py in
one process (both use Debian's serial HDF5); HDF5 is not thread-safe, so every HDF5 call
synshard makes holds one process-wide lock (h5py's own calls hold the GIL instead: do not
read with h5py on one thread while synshard reads on another). Files are opened lazily
per process: a process forked after its parent read (a DataLoader worker) opens its own.
Importing synshard sets HDF5_USE_FILE_LOCKING=FALSE unless it is set (see below).
"""
import collections
import errno
import operator
import os

import numpy as np

# synshard opens shards without HDF5's file locking (read-only mounts, parallel file
# systems without flock, files another process holds locked). HDF5 shares a file opened
# twice in one process (by synshard and by h5py, which load the same library) only with
# one locking setting, and reads this variable once, when it first opens a file: set
# before that, it makes h5py's default the same. An explicit setting is kept.
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

from . import _synshard  # noqa: E402 (after the variable)
from ._synshard import Error, Reader  # noqa: E402

__all__ = ["Class", "Error", "EvalTransform", "Loader", "Output", "SplitDataset",
           "TrainTransform", "decode_crop_resize", "open", "sample_crop"]

Class = collections.namedtuple("Class", "label wnid words gloss ancestors")
Class.__doc__ = ("A class of the output: its label, wnid, WordNet words and gloss, and the "
                 "wnids of every WordNet ancestor.")


def open(out):
    """The output at `out`: its directory, manifest.json or index.h5."""
    return Output(out)


class Output:
    """A converted output: its splits (`out["train"]`, `out.split("val", decode=False)`)
    and its class table (`out.classes`)."""

    def __init__(self, out):
        out = os.fspath(out)
        if not os.path.exists(out):
            raise FileNotFoundError(errno.ENOENT, "no synshard output", out)
        self._reader = Reader(out)
        self.directory = self._reader.directory
        self.splits = list(self._reader.splits)
        self.classes = [Class(label, *entry) for label, entry in enumerate(self._reader.classes)]

    def split(self, name, decode=True):
        """The split's samples; with decode=False, "image" holds the stored bytes."""
        if name not in self.splits:
            raise KeyError(f"{self.directory} has no split {name!r} (it has {self.splits})")
        return SplitDataset(self, name, decode)

    def __getitem__(self, name):
        return self.split(name)

    def __reduce__(self):
        return Output, (self.directory,)

    def __repr__(self):
        return f"synshard.open({self.directory!r})"


class SplitDataset:
    """A split as a map-style dataset: len(ds), ds[i] and ds.by_key(key) give a dict with
    image (RGB uint8 HxWx3, or the stored bytes), label, wnid, boxes (float32 Nx4: xmin,
    ymin, xmax, ymax in stored pixels) and key. Sample i is shard 0's rows first, then
    shard 1's, ... (index.h5's order). Safe in threads and forked processes; pickles as
    (directory, split, decode), so spawned processes reopen it."""

    def __init__(self, output, name, decode=True):
        self.output, self.name, self.decode = output, name, decode
        self._reader = output._reader
        self._length = self._reader.num_samples(name)

    def __len__(self):
        return self._length

    def __getitem__(self, index):
        i = operator.index(index)
        if i < 0:
            i += self._length
        if not 0 <= i < self._length:
            raise IndexError(f"{self.name} sample {index} of {self._length}")
        return self._reader.sample(self.name, i, self.decode)

    def by_key(self, key):
        """The sample stored under `key`; KeyError when this split does not hold it."""
        located = self._reader.locate(key)
        if located is None:
            raise KeyError(f"{key}: no such key in {self.output.directory}")
        split, shard, row, _ = located
        if split != self.name:
            raise KeyError(f"{key} is in split {split!r}, not {self.name!r}")
        return self._reader.sample_at(split, shard, row, self.decode)

    def __reduce__(self):
        return _reopen_split, (self.output.directory, self.name, self.decode)

    def __repr__(self):
        return f"<synshard split {self.name!r} of {self.output.directory}: {self._length} samples>"


def _reopen_split(directory, name, decode):
    return Output(directory).split(name, decode)


TrainTransform = collections.namedtuple("TrainTransform", "size")
TrainTransform.__doc__ = (
    "torchvision's RandomResizedCrop(size) (scale 0.08..1, ratio 3/4..4/3) then "
    "RandomHorizontalFlip, fused with the decode in C++; each sample's crop and flip come "
    "from (seed, epoch, its index in the split) alone.")
EvalTransform = collections.namedtuple("EvalTransform", "resize size")
EvalTransform.__doc__ = ("torchvision's Resize(resize) (the shorter side) then "
                         "CenterCrop(size), fused with the decode in C++.")


def _transform_fields(transform):
    """(kind, size, resize) of a transform, as the C++ module takes it."""
    if transform is None:
        return "none", 0, 0
    if isinstance(transform, TrainTransform):
        return "train", transform.size, 0
    if isinstance(transform, EvalTransform):
        return "eval", transform.size, transform.resize
    raise ValueError(f"transform {transform!r}: None, synshard.TrainTransform(size) or "
                     "synshard.EvalTransform(resize, size)")


def sample_crop(transform, width, height, seed=0, epoch=0, index=0):
    """((x, y, width, height), flip): the source box and flip the Loader applies to sample
    `index` (its index in the split, as ds[i] and a batch's "indices") of a stored image of
    width x height under `transform` in `epoch` of `seed`. Train crops are drawn from
    (seed, epoch, index) alone; the eval crop is the centre, never flipped; None is the
    whole image. Recompute a batch's transform with it and decode_crop_resize()."""
    kind, size, resize = _transform_fields(transform)
    return _synshard.sample_crop(kind, size, resize, seed, epoch, index, width, height)


def decode_crop_resize(encoded, box, size, flip=False, reference=False):
    """The (x, y, width, height) `box` of the image in `encoded` (stored bytes: bytes or a
    uint8 array, e.g. ds[i]["image"] with decode=False) resampled to `size` (S, or (height,
    width)) and mirrored left-right when `flip`: RGB uint8 height x width x 3, what the
    Loader makes. The Loader's path decodes only the box's rows and columns, at a reduced
    DCT scale when the box is at least twice the output; reference=True decodes the whole
    image first. The two are equal at full DCT scale and close at reduced ones
    (crop_transform.hpp's crop_tolerance(): at most 32 per value, 2.5 on average).
    Raises Error for bytes it cannot decode and for a box outside the image."""
    height, width = (size, size) if isinstance(size, int) else size
    return _synshard.decode_crop_resize(np.frombuffer(encoded, np.uint8), tuple(box), width,
                                        height, bool(flip), bool(reference))


class Loader:
    """Batches of a split for training, read, decoded and transformed by C++ threads with
    the GIL released: iterate for one epoch of dicts with images (uint8 N x H x W x 3),
    labels (int32 N), keys, indices (uint64 N: each sample's index in the split, as ds[i])
    and, with with_boxes, boxes (a float32 k x 4 array per sample, in output pixels).

    transform: None (the stored images: every image of a batch must then have one size,
    e.g. batch_size=1), TrainTransform(size) or EvalTransform(resize, size).

    Order (docs/LOADER.md): per epoch the shards are permuted and then every window of
    shuffle_buffer samples, from (seed, epoch); ranks take the epoch as torch's
    DistributedSampler does (ceil(N / world_size) samples each, padded by repeating
    samples, or floor(N / world_size) with drop_last). The batches, their order and every
    crop are pure functions of (seed, epoch, rank, world_size, drop_last, shuffle_buffer,
    batch_size, transform): threads and DataLoader workers change nothing.

    Each `for` starts the epoch from its first batch; set_epoch(e) picks the epoch of the
    next one. A Loader made (or iterated) before a fork works in the child, which makes
    its own threads and opens its own files.

    Images live in shared memory the loader reuses once a batch is dropped. With
    share_images, a batch also holds images_fd: a file descriptor of that memory, open
    while its images array lives, for another process to map without a copy (what
    synshard.torch sends through DataLoader's queue); the loader does not reuse the
    memory while any copy of that descriptor is open, in any process."""

    def __init__(self, out, split, batch_size, transform=None, shuffle=True, seed=0, epoch=0,
                 rank=0, world_size=1, threads=2, drop_last=False, shuffle_buffer=4096,
                 with_boxes=False, worker=(0, 1), share_images=False):
        out = os.fspath(out)
        if not os.path.exists(out):
            raise FileNotFoundError(errno.ENOENT, "no synshard output", out)
        kind, size, resize = _transform_fields(transform)
        self._options = dict(
            path=out, split=split, batch_size=batch_size, transform=kind, size=size,
            resize=resize, shuffle=shuffle, seed=seed, epoch=epoch, rank=rank,
            world_size=world_size, threads=threads, drop_last=drop_last,
            shuffle_buffer=shuffle_buffer, with_boxes=with_boxes, worker_index=worker[0],
            worker_count=worker[1], share_images=share_images)
        self._open()

    def _open(self):
        try:
            self._loader = _synshard.Loader(**self._options)
        except Error as error:
            split = self._options["split"]
            if f"no split '{split}'" in str(error):
                raise KeyError(str(error)) from None
            raise
        self._pid = os.getpid()

    def _current(self):
        # A child of a fork makes its own loader: the parent's threads are not its own.
        if self._pid != os.getpid():
            self._open()
        return self._loader

    @property
    def epoch(self):
        return self._options["epoch"]

    def set_epoch(self, epoch):
        """The epoch the next pass reads (its order and crops)."""
        self._options["epoch"] = epoch
        self._current().set_epoch(epoch)

    def __len__(self):
        """Batches per epoch."""
        return len(self._current())

    def __iter__(self):
        loader = self._current()
        loader.restart()
        while True:
            batch = loader.next()
            if batch is None:
                return
            yield batch

    def __reduce__(self):
        options = dict(self._options)
        path, split, kind = options.pop("path"), options.pop("split"), options.pop("transform")
        size, resize = options.pop("size"), options.pop("resize")
        transform = {"none": None, "train": TrainTransform(size),
                     "eval": EvalTransform(resize, size)}[kind]
        worker = (options.pop("worker_index"), options.pop("worker_count"))
        return _make_loader, (path, split, transform, worker, options)

    def __repr__(self):
        return (f"<synshard.Loader {self._options['split']!r} of {self._options['path']}: "
                f"{len(self)} batches of {self._options['batch_size']}>")


def _make_loader(path, split, transform, worker, options):
    return Loader(path, split, transform=transform, worker=worker, **options)
