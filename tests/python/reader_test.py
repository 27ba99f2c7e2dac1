#!/usr/bin/python3
"""The synshard Python package read against h5py, OpenCV and PIL on a real conversion.

Usage: reader_test.py OUT [unittest arguments, e.g. ReaderTest.test_by_key_round_trip]

OUT is a converted output (ctest passes the sample job's, converted by the real binary in
Python.convert_sample_output); PYTHONPATH must hold build/python, as README says.
"""
import concurrent.futures
import io
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import unittest

import cv2
import h5py
import numpy as np
from PIL import Image

import synshard
from h5py_split import split_from_h5py

OUT = None


def keys_of(dataset, rows):
    """What a spawned worker reads (module level, so that spawn can find it)."""
    return [dataset[i]["key"] for i in rows]


class ReaderTest(unittest.TestCase):
    def test_h5py_and_synshard_read_the_same_shards_in_one_process(self):
        output = synshard.open(OUT)
        self.assertEqual(output.splits, ["train", "val"])
        for split in output.splits:
            expected = split_from_h5py(OUT, split)
            stored = output.split(split, decode=False)
            self.assertEqual(len(stored), len(expected))
            # An h5py handle on the same shard stays open while synshard reads it.
            with h5py.File(os.path.join(OUT, "index.h5"), "r") as index:
                first_shard = index[f"splits/{split}/shard_paths"].asstr()[0]
            with h5py.File(os.path.join(OUT, first_shard), "r") as held:
                for i, want in enumerate(expected):
                    got = stored[i]
                    self.assertEqual(got["key"], want["key"])
                    self.assertEqual(got["label"], want["label"])
                    self.assertEqual(got["wnid"], want["wnid"])
                    self.assertEqual(got["image"].dtype, np.uint8)
                    np.testing.assert_array_equal(got["image"], want["bytes"])
                    self.assertEqual(got["boxes"].dtype, np.float32)
                    self.assertEqual(got["boxes"].shape, (len(want["boxes"]), 4))
                    np.testing.assert_array_equal(got["boxes"], want["boxes"])
                self.assertEqual(held["keys"].asstr()[0], expected[0]["key"])
        self.assertTrue(any(len(s["boxes"]) for s in split_from_h5py(OUT, "train")),
                        "the sample output has boxes")

    def test_decoded_image_equals_opencv_and_pil_decodes_of_the_stored_bytes(self):
        stored = split_from_h5py(OUT, "train")
        train = synshard.open(OUT)["train"]
        for i in range(len(train)):
            image = train[i]["image"]
            self.assertEqual(image.dtype, np.uint8)
            self.assertTrue(image.flags["C_CONTIGUOUS"])
            cv_rgb = cv2.imdecode(stored[i]["bytes"], cv2.IMREAD_COLOR)[:, :, ::-1]
            pil_rgb = np.asarray(Image.open(io.BytesIO(stored[i]["bytes"].tobytes())).convert("RGB"))
            self.assertEqual(image.shape, cv_rgb.shape)
            self.assertEqual(image.shape[2], 3)
            np.testing.assert_array_equal(image, cv_rgb, err_msg=stored[i]["key"])
            np.testing.assert_array_equal(image, pil_rgb, err_msg=stored[i]["key"])

    def test_by_key_round_trip(self):
        output = synshard.open(OUT)
        for split in output.splits:
            dataset = output.split(split, decode=False)
            for i in range(len(dataset)):
                sample = dataset[i]
                again = dataset.by_key(sample["key"])
                self.assertEqual(again["key"], sample["key"])
                self.assertEqual(again["label"], sample["label"])
                np.testing.assert_array_equal(again["image"], sample["image"])
                np.testing.assert_array_equal(again["boxes"], sample["boxes"])
        with self.assertRaisesRegex(KeyError, "n01440764/no-such-image.JPEG"):
            output["train"].by_key("n01440764/no-such-image.JPEG")
        val_key = output["val"][0]["key"]
        with self.assertRaisesRegex(KeyError, "val"):
            output["train"].by_key(val_key)
        decoded = output["train"].by_key(output["train"][5]["key"])
        np.testing.assert_array_equal(decoded["image"], output["train"][5]["image"])

    def test_classes_and_their_ancestors_equal_index_hierarchy(self):
        with h5py.File(os.path.join(OUT, "index.h5"), "r") as index:
            wnids = list(index["hierarchy/wnids"].asstr()[:])
            edges = index["hierarchy/edges"][:].reshape(-1, 2)
            class_wnids = list(index["classes/synsets"].asstr()[:])
            class_words = list(index["classes/words"].asstr()[:])
        parents = {wnid: set() for wnid in wnids}
        for parent, child in edges:
            parents[wnids[child]].add(wnids[parent])

        def ancestors(wnid):
            found, todo = set(), list(parents[wnid])
            while todo:
                node = todo.pop()
                if node not in found:
                    found.add(node)
                    todo.extend(parents[node])
            return found

        classes = synshard.open(OUT).classes
        self.assertEqual([c.wnid for c in classes], class_wnids)
        self.assertEqual([c.words for c in classes], class_words)
        for label, entry in enumerate(classes):
            self.assertEqual(entry.label, label)
            self.assertTrue(entry.ancestors, entry.wnid)
            self.assertEqual(set(entry.ancestors), ancestors(entry.wnid), entry.wnid)
            self.assertIn("n00001740", entry.ancestors)  # entity
        self.assertEqual(classes[0].words, "tench, Tinca tinca")

    def test_forked_children_read_correctly_after_the_parent_read(self):
        train = synshard.open(OUT)["train"]
        expected = split_from_h5py(OUT, "train")
        first = train[0]  # the parent opens index.h5 and shard 0 before any fork
        self.assertEqual(first["key"], expected[0]["key"])
        shard0 = os.path.realpath(os.path.join(OUT, "train", sorted(os.listdir(
            os.path.join(OUT, "train")))[0]))
        # Mark the parent's open file descriptions of shard 0: HDF5 reads with pread, so
        # the offset is free to carry a mark that a child inherits only by sharing them.
        marked = [fd for fd in map(int, os.listdir("/proc/self/fd"))
                  if os.path.realpath(f"/proc/self/fd/{fd}") == shard0]
        self.assertTrue(marked, "the parent holds shard 0 open")
        for fd in marked:
            os.lseek(fd, 12345, os.SEEK_SET)
        children = []
        for worker in range(3):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_end)
                status = 1
                try:
                    rows = range(worker, len(train), 3)
                    got = [(train[i]["key"], train[i]["label"], train[i]["image"].shape,
                            int(train[i]["image"].sum())) for i in rows]
                    inherited = []
                    for fd in map(int, os.listdir("/proc/self/fd")):
                        try:
                            if (os.path.realpath(f"/proc/self/fd/{fd}") == shard0 and
                                    os.lseek(fd, 0, os.SEEK_CUR) == 12345):
                                inherited.append(fd)
                        except OSError:
                            pass
                    os.write(write_end, pickle.dumps((got, inherited)))
                    status = 0
                finally:
                    os._exit(status)
            os.close(write_end)
            children.append((pid, read_end, worker))
        for pid, read_end, worker in children:
            with os.fdopen(read_end, "rb") as pipe:
                data = pipe.read()
            _, status = os.waitpid(pid, 0)
            self.assertEqual(os.waitstatus_to_exitcode(status), 0, f"worker {worker}")
            got, inherited = pickle.loads(data)
            self.assertEqual(inherited, [], "a child read through the parent's HDF5 handle")
            rows = list(range(worker, len(train), 3))
            self.assertEqual(len(got), len(rows))
            for i, (key, label, shape, total) in zip(rows, got):
                self.assertEqual((key, label), (expected[i]["key"], expected[i]["label"]))
                rgb = cv2.imdecode(expected[i]["bytes"], cv2.IMREAD_COLOR)
                self.assertEqual((shape, total), (rgb.shape, int(rgb.sum())), key)
        # The children closing what they inherited left the parent's files working.
        np.testing.assert_array_equal(train[0]["image"], first["image"])
        self.assertEqual(train[len(train) - 1]["key"], expected[-1]["key"])

    def test_threads_read_the_same_samples_as_one_thread(self):
        # Stored bytes: the threads spend their time inside HDF5, under the one lock.
        train = synshard.open(OUT).split("train", decode=False)

        def digest(i):
            sample = train[i % len(train)]
            return sample["key"], sample["label"], sample["image"].tobytes()

        rows = range(20 * len(train))
        serial = [digest(i) for i in rows]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            self.assertEqual(list(pool.map(digest, rows)), serial)

    def test_forks_while_another_thread_reads_leave_children_that_read(self):
        train = synshard.open(OUT).split("train", decode=False)
        expected = [train[i]["key"] for i in range(len(train))]
        stop = threading.Event()

        def read_until_stopped():
            i = 0
            while not stop.is_set():
                train[i % len(train)]
                i += 1

        reader = threading.Thread(target=read_until_stopped)
        reader.start()
        try:
            for child in range(20):
                pid = os.fork()
                if pid == 0:
                    status = 1
                    try:
                        i = child * 17 % len(train)
                        status = 0 if train[i]["key"] == expected[i] else 2
                    finally:
                        os._exit(status)
                deadline = time.monotonic() + 20
                while True:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        break
                    if time.monotonic() > deadline:
                        os.kill(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                        self.fail(f"child {child} hung: forked while HDF5 was in use")
                    time.sleep(0.01)
                self.assertEqual(os.waitstatus_to_exitcode(status), 0, f"child {child}")
        finally:
            stop.set()
            reader.join()

    def test_spawned_workers_read_a_pickled_split(self):
        train = synshard.open(OUT)["train"]
        expected = [sample["key"] for sample in split_from_h5py(OUT, "train")]
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            halves = pool.starmap(keys_of, [(train, range(0, len(train), 2)),
                                            (train, range(1, len(train), 2))])
        self.assertEqual(halves, [expected[0::2], expected[1::2]])

    def test_pickled_dataset_reads_the_same_samples(self):
        stored = synshard.open(OUT).split("val", decode=False)
        copy = pickle.loads(pickle.dumps(stored))
        self.assertEqual(len(copy), len(stored))
        np.testing.assert_array_equal(copy[3]["image"], stored[3]["image"])

    def test_bad_index_raises_index_error(self):
        train = synshard.open(OUT)["train"]
        for bad in (len(train), len(train) + 10, -len(train) - 1):
            with self.assertRaises(IndexError):
                train[bad]
        self.assertEqual(train[-1]["key"], train[len(train) - 1]["key"])
        self.assertEqual(len(list(iter(synshard.open(OUT)["val"]))),
                         len(split_from_h5py(OUT, "val")))

    def test_unknown_split_raises_key_error_naming_it(self):
        with self.assertRaisesRegex(KeyError, "test"):
            synshard.open(OUT)["test"]

    def test_missing_output_raises_naming_it(self):
        missing = os.path.join(OUT, "no-such-output")
        with self.assertRaisesRegex(FileNotFoundError, "no-such-output"):
            synshard.open(missing)
        not_an_output = os.path.join(OUT, "train")
        with self.assertRaisesRegex(synshard.Error, "index.h5"):
            synshard.open(not_an_output)


if __name__ == "__main__":
    OUT = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
