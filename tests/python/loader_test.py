#!/usr/bin/python3
"""synshard.Loader and synshard.torch on a real conversion.

Usage: loader_test.py OUT [unittest arguments, e.g. LoaderTest.test_world_size_2_partition]

OUT is a converted output (ctest passes the sample job's, converted by the real binary in
Python.convert_sample_output); PYTHONPATH must hold build/python, as README says. The
torch tests need Debian's python3-torch (cluster/install-deps.sh installs it).
"""
import fcntl
import os
import pickle
import subprocess
import sys
import unittest

import numpy as np

import synshard
from h5py_split import split_from_h5py

OUT = None


def epoch(loader):
    """Every batch of one pass, as (indices, labels, keys, images)."""
    return [(b["indices"].tolist(), b["labels"].tolist(), b["keys"], b["images"]) for b in loader]


def flat_indices(batches):
    return [i for indices, *_ in batches for i in indices]


def epoch_in_a_child(loader):
    """Forks a process that reads a whole epoch of `loader`; the returned call waits for it
    and gives the sample indices it read, in order (raising if the child failed)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        status = 1
        try:
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(pickle.dumps(flat_indices(epoch(loader))))
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)

    def indices():
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise AssertionError(f"the forked child failed (exit {os.waitstatus_to_exitcode(status)})")
        return pickle.loads(data)

    return indices


def assert_same_batches(test, got, expected, what):
    test.assertEqual(len(got), len(expected), what)
    for number, (a, b) in enumerate(zip(got, expected)):
        test.assertEqual(a[:3], b[:3], f"{what}, batch {number}")
        np.testing.assert_array_equal(a[3], b[3], err_msg=f"{what}, batch {number}")


class LoaderTest(unittest.TestCase):
    def test_an_epoch_is_every_sample_once_as_the_dataset_decodes_it(self):
        train = synshard.open(OUT)["train"]
        loader = synshard.Loader(OUT, "train", batch_size=1, seed=4, threads=2)
        self.assertEqual(len(loader), len(train))
        batches = epoch(loader)
        indices = flat_indices(batches)
        self.assertEqual(sorted(indices), list(range(len(train))))
        self.assertNotEqual(indices, sorted(indices), "shuffled")
        keys = [sample["key"] for sample in split_from_h5py(OUT, "train")]
        for (index,), (label,), (key,), images in batches:
            self.assertEqual(key, keys[index])
            sample = train[index]
            self.assertEqual(label, sample["label"])
            self.assertEqual(images.dtype, np.uint8)
            self.assertEqual(images.shape, (1,) + sample["image"].shape)
            np.testing.assert_array_equal(images[0], sample["image"], err_msg=key)
        # Iterating again is the same epoch; without shuffle, the split's own order.
        self.assertEqual(flat_indices(epoch(loader)), indices)
        in_order = synshard.Loader(OUT, "train", batch_size=1, shuffle=False)
        self.assertEqual(flat_indices(epoch(in_order)), list(range(len(train))))

    def test_train_transform_batches(self):
        loader = synshard.Loader(OUT, "train", batch_size=16, transform=synshard.TrainTransform(32),
                                 seed=1, threads=2, with_boxes=True)
        count = 0
        labels = synshard.open(OUT).split("train", decode=False)
        for batch in loader:
            images = batch["images"]
            self.assertEqual(images.dtype, np.uint8)
            self.assertTrue(images.flags["C_CONTIGUOUS"])
            self.assertEqual(images.shape[1:], (32, 32, 3))
            self.assertEqual(images.shape[0], len(batch["labels"]))
            self.assertEqual(batch["labels"].dtype, np.int32)
            for index, label, boxes in zip(batch["indices"], batch["labels"], batch["boxes"]):
                self.assertEqual(label, labels[int(index)]["label"])
                self.assertEqual(boxes.dtype, np.float32)
                self.assertEqual(boxes.shape[1:], (4,))
                self.assertTrue(np.all((boxes >= 0) & (boxes <= 32)))
            count += images.shape[0]
        self.assertEqual(count, len(labels))
        self.assertEqual(len(loader), -(-len(labels) // 16))
        self.assertEqual(next(iter(loader))["images"].shape[0], 16)

    def test_different_sizes_without_transform_raise_naming_the_keys(self):
        loader = synshard.Loader(OUT, "train", batch_size=8, shuffle=False)
        with self.assertRaisesRegex(synshard.Error, "differ in size"):
            next(iter(loader))

    def test_world_size_2_partition(self):
        n = len(synshard.open(OUT)["train"])
        self.assertEqual(n % 2, 1, "an odd split, so that padding and dropping both show")
        for drop_last in (False, True):
            ranks = []
            for rank in (0, 1):
                loader = synshard.Loader(OUT, "train", batch_size=8,
                                         transform=synshard.TrainTransform(16), seed=3, epoch=1,
                                         rank=rank, world_size=2, drop_last=drop_last)
                ranks.append(flat_indices(epoch(loader)))
            expected = n // 2 if drop_last else -(-n // 2)
            self.assertEqual([len(r) for r in ranks], [expected, expected], f"drop_last={drop_last}")
            both = ranks[0] + ranks[1]
            if drop_last:
                self.assertEqual(len(set(both)), len(both), "disjoint")
                self.assertEqual(len(set(range(n)) - set(both)), n - 2 * expected)
            else:
                self.assertEqual(set(both), set(range(n)), "complete")
                # The one repeat is the padding: the epoch's first sample, on the last rank.
                self.assertEqual(len(both) - len(set(both)), 1)
                self.assertEqual(ranks[1][-1], ranks[0][0])
                self.assertEqual(len(set(ranks[0])), len(ranks[0]))

    def test_same_seed_and_epoch_same_batches_whatever_the_threads(self):
        def run(threads, epoch_number=0, **kwargs):
            loader = synshard.Loader(OUT, "train", batch_size=10, transform=synshard.TrainTransform(24),
                                     seed=7, epoch=epoch_number, threads=threads, **kwargs)
            return epoch(loader)

        reference = run(1)
        assert_same_batches(self, run(3), reference, "3 threads")
        assert_same_batches(self, run(2), reference, "2 threads")
        later = run(2, epoch_number=1)
        self.assertNotEqual(flat_indices(later), flat_indices(reference))
        self.assertEqual(sorted(flat_indices(later)), sorted(flat_indices(reference)))
        loader = synshard.Loader(OUT, "train", batch_size=10, transform=synshard.TrainTransform(24),
                                 seed=7, threads=2)
        loader.set_epoch(1)
        assert_same_batches(self, epoch(loader), later, "set_epoch(1)")
        # A sample's crop depends on (seed, epoch, sample) only: the eval crop has no chance
        # in it, the train crops of one sample differ between epochs.
        first = {i: img for i, img in zip(flat_indices(reference), np.concatenate([b[3] for b in reference]))}
        second = {i: img for i, img in zip(flat_indices(later), np.concatenate([b[3] for b in later]))}
        differing = sum(not np.array_equal(first[i], second[i]) for i in first)
        self.assertGreater(differing, len(first) // 2)

    def test_eval_transform_has_no_chance_in_it(self):
        a = epoch(synshard.Loader(OUT, "val", batch_size=5, transform=synshard.EvalTransform(40, 32),
                                  shuffle=False, seed=1))
        b = epoch(synshard.Loader(OUT, "val", batch_size=5, transform=synshard.EvalTransform(40, 32),
                                  shuffle=False, seed=2, epoch=3))
        assert_same_batches(self, a, b, "seeds")

    def test_a_loader_made_before_a_fork_reads_in_the_child(self):
        loader = synshard.Loader(OUT, "val", batch_size=1, shuffle=False)
        expected = flat_indices(epoch(loader))  # the parent iterated (threads ran here)
        self.assertEqual(epoch_in_a_child(loader)(), expected)
        self.assertEqual(flat_indices(epoch(loader)), expected, "the parent still reads")

    def test_a_fork_in_the_middle_of_an_epoch_leaves_both_processes_reading(self):
        loader = synshard.Loader(OUT, "train", batch_size=4, transform=synshard.TrainTransform(16),
                                 threads=2)
        expected = epoch(loader)
        running = iter(loader)
        first = next(running)  # the parent's threads are reading and decoding now
        child_epoch = epoch_in_a_child(loader)
        rest = [first] + list(running)
        self.assertEqual(child_epoch(), flat_indices(expected), "the child's epoch")
        assert_same_batches(self, [(b["indices"].tolist(), b["labels"].tolist(), b["keys"],
                                    b["images"]) for b in rest], expected, "the parent's epoch")

    def test_reads_shards_another_process_holds_exclusively_locked(self):
        shards = [os.path.join(OUT, "train", name) for name in sorted(os.listdir(os.path.join(OUT, "train")))]
        holder = subprocess.Popen(
            [sys.executable, "-c", (
                "import fcntl, sys\n"
                "files = [open(p, 'rb+') for p in sys.argv[1:]]\n"
                "for f in files[0::2]: fcntl.flock(f, fcntl.LOCK_EX)\n"
                "for f in files[1::2]: fcntl.lockf(f, fcntl.LOCK_EX)\n"
                "print('locked', flush=True)\n"
                "sys.stdin.read()\n"),
             *shards, os.path.join(OUT, "index.h5")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(holder.stdout.readline().strip(), "locked")
            # The locks hold: another taker is refused.
            with open(shards[0], "rb") as f:
                with self.assertRaises(BlockingIOError):
                    fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            loader = synshard.Loader(OUT, "train", batch_size=1, threads=2)
            self.assertEqual(sorted(flat_indices(epoch(loader))), list(range(len(loader))))
            self.assertEqual(synshard.open(OUT)["train"][0]["key"],
                             split_from_h5py(OUT, "train")[0]["key"])
        finally:
            holder.stdin.close()
            holder.wait()
            holder.stdout.close()

    def test_bad_options_raise(self):
        with self.assertRaisesRegex(KeyError, "test"):
            synshard.Loader(OUT, "test", batch_size=1)
        with self.assertRaisesRegex(synshard.Error, "rank 2 of world size 2"):
            synshard.Loader(OUT, "train", batch_size=1, rank=2, world_size=2)
        with self.assertRaises(ValueError):
            synshard.Loader(OUT, "train", batch_size=1, transform="random crop")
        with self.assertRaisesRegex(FileNotFoundError, "no-such-output"):
            synshard.Loader(os.path.join(OUT, "no-such-output"), "train", batch_size=1)


if __name__ == "__main__":
    OUT = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
