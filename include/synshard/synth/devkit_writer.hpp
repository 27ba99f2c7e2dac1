#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "synshard/synth/plan.hpp"

namespace synshard::synth {

// The ILSVRC2012_ID of each planned class, by plan order: 1..N in a keyed shuffle of the
// classes, since the real devkit does not number its classes in wnid order either.
std::vector<int> devkit_ids(std::span<const ClassPlan> classes, std::uint64_t seed);

// The 2012 devkit's data/meta.mat: a MAT 5 file holding a `synsets` struct array with
// ILSVRC2012_ID, WNID, words, gloss, num_children (0: every class is a leaf) and
// num_train_images, one element per class in ID order. Written with matio (through a
// private file in TMPDIR, as matio writes files by name) under a fixed header text, so
// its bytes are a function of its arguments.
std::vector<std::uint8_t> devkit_meta_mat(std::span<const ClassPlan> classes,
                                          std::span<const int> ids);

// The devkit's data/ILSVRC2012_validation_ground_truth.txt: the ILSVRC2012_ID of each
// val image's class, one a line, in val order.
std::string validation_ground_truth(std::span<const ClassPlan> classes, std::span<const int> ids,
                                    std::span<const ValImage> val);

}  // namespace synshard::synth
