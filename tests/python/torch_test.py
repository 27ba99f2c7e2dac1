#!/usr/bin/python3
"""synshard.torch under torch.utils.data.DataLoader, with fork and spawn workers.

Usage: torch_test.py OUT [unittest arguments]

OUT is a converted output (the sample job's in ctest); PYTHONPATH must hold build/python.
Needs Debian's python3-torch (cluster/install-deps.sh installs it); without it the test
prints SKIP and exits 77, which ctest counts as skipped.
"""
import os
import subprocess
import sys
import unittest

import numpy as np

import synshard

OUT = None


def stream(loader):
    """(indices, labels, keys, images) of every batch a DataLoader yields, in order."""
    got = []
    for batch in loader:
        got.append((batch["indices"].tolist(), batch["labels"].tolist(), batch["keys"],
                    batch["images"].numpy()))
    return got


class PicklesWithoutACopy:
    """Batches (an IterableDataset) as DataLoader's worker sends them, reporting per batch
    whether pickling the images for the queue moved them to new memory (torch copies a
    tensor that is not in shared memory into some before sending it)."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        from torch.multiprocessing.reductions import ForkingPickler
        for batch in self.batches:
            images = batch["images"]
            before = images.data_ptr()
            ForkingPickler.dumps(images)
            yield {"moved": images.data_ptr() != before, "shared": images.is_shared()}


class TorchTest(unittest.TestCase):
    def batches(self, **kwargs):
        import synshard.torch
        options = dict(batch_size=12, transform=synshard.TrainTransform(32), seed=5, threads=2)
        options.update(kwargs)
        return synshard.torch.Batches(OUT, "train", **options)

    def data_loader(self, dataset, workers, context):
        import torch.utils.data
        return torch.utils.data.DataLoader(
            dataset, batch_size=None, num_workers=workers,
            multiprocessing_context=context if workers else None)

    def test_workers_give_the_one_process_stream_under_fork_and_spawn(self):
        import torch
        dataset = self.batches()
        reference = stream(self.data_loader(dataset, 0, None))  # the parent reads first
        n = len(synshard.open(OUT)["train"])
        self.assertEqual(sorted(i for b in reference for i in b[0]), list(range(n)))
        first = next(iter(self.data_loader(dataset, 0, None)))
        self.assertIsInstance(first["images"], torch.Tensor)
        self.assertEqual(first["images"].dtype, torch.uint8)
        self.assertEqual(tuple(first["images"].shape), (12, 32, 32, 3))
        self.assertEqual(first["labels"].dtype, torch.int64)
        self.assertEqual(len(self.data_loader(dataset, 2, "fork")), len(reference))
        for context in ("fork", "spawn"):
            for workers in (2, 3):
                got = stream(self.data_loader(dataset, workers, context))
                self.assertEqual(len(got), len(reference), f"{context}, {workers} workers")
                for number, (a, b) in enumerate(zip(got, reference)):
                    self.assertEqual(a[:3], b[:3], f"{context}, {workers} workers, batch {number}")
                    np.testing.assert_array_equal(a[3], b[3])

    def test_a_worker_sends_its_batches_without_copying_them(self):
        import torch.utils.data
        dataset = self.batches()

        class Probe(PicklesWithoutACopy, torch.utils.data.IterableDataset):
            pass

        sent = list(self.data_loader(Probe(dataset), 2, "fork"))
        self.assertEqual(len(sent), len(dataset))
        self.assertEqual([(b["moved"], b["shared"]) for b in sent], [(False, True)] * len(sent))

    def test_a_workers_labels_indices_and_boxes_travel_in_the_message_not_as_descriptors(self):
        # Each shared tensor costs an authenticated socket connection to pass its
        # descriptor: a batch's small tensors come inline, only its pixels shared.
        import torch
        reference = list(self.data_loader(self.batches(with_boxes=True), 0, None))
        for context in ("fork", "spawn"):
            sent = list(self.data_loader(self.batches(with_boxes=True), 2, context))
            self.assertEqual(len(sent), len(reference), context)
            for batch, expected in zip(sent, reference):
                self.assertTrue(batch["images"].is_shared(), context)
                small = [batch["labels"], batch["indices"], *batch["boxes"]]
                self.assertEqual([t.is_shared() for t in small], [False] * len(small), context)
                self.assertEqual([type(t) for t in small], [torch.Tensor] * len(small), context)
                self.assertEqual((batch["labels"].dtype, batch["indices"].dtype),
                                 (torch.int64, torch.int64), context)
                self.assertEqual(batch["labels"].tolist(), expected["labels"].tolist(), context)
                self.assertEqual(batch["indices"].tolist(), expected["indices"].tolist(), context)
                self.assertEqual(len(batch["boxes"]), len(expected["boxes"]), context)
                for boxes, want in zip(batch["boxes"], expected["boxes"]):
                    np.testing.assert_array_equal(boxes.numpy(), want.numpy(), context)

    def test_batches_held_or_dropped_keep_their_pixels_while_the_workers_reuse_memory(self):
        # Every third batch is held to the end, the others dropped at once: the workers'
        # memory comes back for later batches only once the main process lets go of it.
        reference = stream(self.data_loader(self.batches(), 0, None))
        for context in ("fork", "spawn"):
            held, seen = {}, []
            for number, batch in enumerate(self.data_loader(self.batches(), 2, context)):
                seen.append(batch["images"].numpy().copy())
                if number % 3 == 0:
                    held[number] = batch["images"]
                del batch
            self.assertEqual(len(seen), len(reference), context)
            for number, images in enumerate(seen):
                np.testing.assert_array_equal(images, reference[number][3], f"{context} {number}")
            for number, images in held.items():
                np.testing.assert_array_equal(images.numpy(), reference[number][3],
                                              f"{context}: held batch {number} changed")

    def test_set_epoch_changes_the_order_and_world_size_2_splits_it(self):
        dataset = self.batches()
        dataset.set_epoch(3)
        epoch3 = stream(self.data_loader(dataset, 2, "fork"))
        again = stream(self.data_loader(self.batches(epoch=3), 0, None))
        self.assertEqual([b[0] for b in epoch3], [b[0] for b in again])
        epoch0 = stream(self.data_loader(self.batches(), 0, None))
        self.assertNotEqual([b[0] for b in epoch3], [b[0] for b in epoch0])
        n = len(synshard.open(OUT)["train"])
        ranks = [[i for b in stream(self.data_loader(self.batches(rank=r, world_size=2), 2, "fork"))
                  for i in b[0]] for r in (0, 1)]
        self.assertEqual([len(r) for r in ranks], [-(-n // 2)] * 2)
        self.assertEqual(set(ranks[0] + ranks[1]), set(range(n)))

    def test_map_style_dataset_under_fork_and_spawn(self):
        import synshard.torch
        import torch
        train = synshard.open(OUT)["train"]
        samples = synshard.torch.Samples(OUT, "train")
        self.assertEqual(len(samples), len(train))
        first = samples[0]  # the parent opens the output before the workers start
        self.assertIsInstance(first["image"], torch.Tensor)
        np.testing.assert_array_equal(first["image"].numpy(), train[0]["image"])
        rows = list(range(0, len(train), 7))
        for context in ("fork", "spawn"):
            loader = torch.utils.data.DataLoader(
                torch.utils.data.Subset(samples, rows), batch_size=None, num_workers=2,
                multiprocessing_context=context)
            for i, sample in zip(rows, loader):
                self.assertEqual(sample["key"], train[i]["key"], context)
                self.assertEqual(int(sample["label"]), train[i]["label"])
                np.testing.assert_array_equal(sample["image"].numpy(), train[i]["image"])

    def test_import_synshard_does_not_import_torch(self):
        run = subprocess.run(
            [sys.executable, "-c",
             "import sys, synshard; assert 'torch' not in sys.modules, 'torch imported'; "
             "synshard.Loader; print('ok')"],
            capture_output=True, text=True)
        self.assertEqual(run.stdout.strip(), "ok", run.stderr)


if __name__ == "__main__":
    OUT = os.path.abspath(sys.argv[1])
    try:
        import torch  # noqa: F401
    except ImportError:
        print("SKIP: torch does not import (apt-get install python3-torch)")
        sys.exit(77)
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
