#!/usr/bin/python3
"""The loader's fused transforms against the reference path and against PIL and OpenCV.

Usage: transform_test.py OUT [unittest arguments]

OUT is a converted output of JPEGs (ctest passes the sample job's); PYTHONPATH must hold
build/python, as README says. Each image of the Loader's train batches is recomputed from
its stored bytes and its crop (synshard.sample_crop of its index): (a) by the reference
path, a full decode then crop and resample (synshard.decode_crop_resize(...,
reference=True)), within crop_tolerance() of the crop's DCT scale (at 224 from the sample's
256-pixel images every crop decodes at full scale, where the two are equal; at 64 most
decode at 4/8); (b) by PIL alone, full decode, crop, bicubic resize and flip, within a
measured bound on the mean difference (the project's resampler is Catmull-Rom, PIL's
bicubic the same kernel, so at full scale they differ by rounding only; OpenCV's
INTER_AREA and torchvision's default bilinear are further off: printed, not asserted).
"""
import io
import os
import sys
import unittest

import cv2
import numpy as np
from PIL import Image

import synshard

OUT = None

# Mean absolute difference per channel value (0..255) between a loader image and PIL's
# crop + bicubic resize of the same stored JPEG, per image, by the crop's DCT scale.
# Measured on the sample job's train split (3 seeds each at 224 and 64): at full scale
# at most 0.31 (the mean over a split 0.21), from rounding in the two resamplers; at a
# reduced scale (size 64: 4/8 and 2/8) at most 6.6 (mean 2.1), from libjpeg's scaled
# IDCT, which PIL's own reduced-scale decode (Image.draft) shares.
PIL_BICUBIC_MEAN_BOUND = {8: 0.5, 4: 8.0, 2: 8.0, 1: 8.0}
# Over the full-scale crops of a split: 0.21 measured.
PIL_BICUBIC_SPLIT_MEAN_BOUND = 0.3


def pil_crop_resize(encoded, box, size, flip, resample):
    """torchvision's resized_crop on a PIL image: full decode, crop, resize, flip."""
    x, y, width, height = box
    image = Image.open(io.BytesIO(encoded)).convert("RGB")
    image = image.crop((x, y, x + width, y + height)).resize((size, size), resample)
    if flip:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return np.asarray(image)


def cv2_crop_resize(encoded, box, size, flip):
    x, y, width, height = box
    rgb = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
    image = cv2.resize(np.ascontiguousarray(rgb[y:y + height, x:x + width]), (size, size),
                       interpolation=cv2.INTER_AREA)
    return image[:, ::-1] if flip else image


def mean_abs(a, b):
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


class TransformTest(unittest.TestCase):
    def check_train_batches(self, size, seed, epoch):
        stored = synshard.open(OUT).split("train", decode=False)
        loader = synshard.Loader(OUT, "train", batch_size=32,
                                 transform=synshard.TrainTransform(size), seed=seed,
                                 epoch=epoch, threads=2)
        transform = synshard.TrainTransform(size)
        scales, beyond, flips, pil_means = [], [], 0, {}
        other_means = {"cv2 INTER_AREA": [], "PIL bilinear": []}
        for batch in loader:
            for index, image in zip(batch["indices"].tolist(), batch["images"]):
                sample = stored[index]
                encoded = sample["image"].tobytes()
                width, height = Image.open(io.BytesIO(encoded)).size
                box, flip = synshard.sample_crop(transform, width, height, seed=seed,
                                                 epoch=epoch, index=index)
                x, y, w, h = box
                self.assertTrue(0 <= x and 0 <= y and x + w <= width and y + h <= height, box)
                flips += flip
                what = f"{sample['key']} box {box} flip {flip} at {size}"

                # (a) the reference path on the same box and flip
                reference = synshard.decode_crop_resize(encoded, box, size, flip, reference=True)
                eighths, max_abs, mean_bound = synshard._synshard.crop_tolerance(box, size, size)
                scales.append(eighths)
                difference = np.abs(image.astype(np.int16) - reference.astype(np.int16))
                if difference.max() > max_abs or difference.mean() > mean_bound:
                    beyond.append((int(difference.max()), round(float(difference.mean()), 2),
                                   eighths, what))
                np.testing.assert_array_equal(
                    synshard.decode_crop_resize(encoded, box, size, flip), image, err_msg=what)

                # (b) PIL alone (and OpenCV, for the record)
                pil = pil_crop_resize(encoded, box, size, flip, Image.Resampling.BICUBIC)
                pil_means.setdefault(eighths, []).append(mean_abs(image, pil))
                self.assertLess(pil_means[eighths][-1], PIL_BICUBIC_MEAN_BOUND[eighths], what)
                other_means["cv2 INTER_AREA"].append(
                    mean_abs(image, cv2_crop_resize(encoded, box, size, flip)))
                other_means["PIL bilinear"].append(mean_abs(image, pil_crop_resize(
                    encoded, box, size, flip, Image.Resampling.BILINEAR)))
        print(f"\n  {size}: {len(scales)} images, "
              + "; ".join(f"{len(v)} at DCT scale {e}/8: |loader - PIL bicubic| mean "
                          f"{np.mean(v):.3f}, worst image {max(v):.3f}"
                          for e, v in sorted(pil_means.items()))
              + "; all: " + "; ".join(f"|loader - {name}| mean {np.mean(v):.3f}, worst "
                                      f"{max(v):.3f}" for name, v in other_means.items()),
              file=sys.stderr)
        self.assertEqual(len(scales), len(stored))
        self.assertEqual(len(beyond), 0, f"of {len(scales)} crops beyond crop_tolerance(); the "
                                         f"worst (max, mean, eighths, sample): {max(beyond, default=None)}")
        self.assertLess(float(np.mean(pil_means[8])), PIL_BICUBIC_SPLIT_MEAN_BOUND)
        # A fair coin over the split.
        self.assertTrue(0.3 < flips / len(stored) < 0.7, flips)
        return scales

    def test_train_224_equals_reference_and_pil(self):
        self.check_train_batches(224, seed=5, epoch=0)

    def test_train_64_equals_reference_within_tolerance_at_reduced_dct_scales(self):
        scales = self.check_train_batches(64, seed=6, epoch=2)
        self.assertTrue(any(s < 8 for s in scales), "some crops decode at a reduced DCT scale")

    def test_eval_crop_is_the_centre(self):
        box, flip = synshard.sample_crop(synshard.EvalTransform(256, 224), 500, 375)
        # torchvision: Resize(256) -> 341x256, CenterCrop(224) at (58, 16) .. (282, 240); in
        # source pixels (x 500/341, y 375/256) 85.04 .. 413.49 and 23.44 .. 351.56, rounded.
        self.assertEqual((box, flip), ((85, 23, 328, 329), False))

    def test_bad_bytes_raise(self):
        with self.assertRaisesRegex(synshard.Error, "corrupt|truncated|unsupported"):
            synshard.decode_crop_resize(b"\xff\xd8\xff\xe0 not a jpeg", (0, 0, 8, 8), 4)


if __name__ == "__main__":
    OUT = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
