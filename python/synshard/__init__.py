"""Read synshard outputs (docs/FORMAT.md) from Python.

    import synshard
    out = synshard.open("sample/out")        # the output directory
    train = out["train"]                     # map-style: len(train), train[i]
    sample = train[123]                      # image (RGB uint8 HxWx3), label, wnid, boxes, key
    same = train.by_key(sample["key"])
    stored = out.split("train", decode=False)[123]["image"]   # the stored JPEG bytes
    out.classes[sample["label"]].ancestors   # WordNet ancestors of the class

Reading and decoding run in C++ with the GIL released. The package lives beside h5py in
one process (both use Debian's serial HDF5); HDF5 is not thread-safe, so every HDF5 call
synshard makes holds one process-wide lock (h5py's own calls hold the GIL instead: do not
read with h5py on one thread while synshard reads on another). Files are opened lazily
per process: a process forked after its parent read (a DataLoader worker) opens its own.
"""
import collections
import errno
import operator
import os

from ._synshard import Error, Reader

__all__ = ["Class", "Error", "Output", "SplitDataset", "open"]

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
