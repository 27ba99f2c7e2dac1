#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "synshard/h5/index_writer.hpp"
#include "synshard/image/pipeline.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/plan/plan.hpp"
#include "synshard/util/exit_code.hpp"

namespace synshard::convert {

// What the root holds at the end of a conversion, gathered from every rank: the input of
// the manifest and index.h5, which are pure functions of it (below).
struct GatheredOutcome {
    // The plan's rejections and every rank's, in any order.
    std::vector<Rejection> rejected;
    std::vector<manifest::KeyGroup> duplicates;  // any order
    std::vector<manifest::KeyGroup> leaks;       // any order
    // Every published shard, by relative path ("train/train-00000-of-00002.h5").
    std::map<std::string, manifest::ShardEntry> shards;
    // Surviving images per label, by corpus::Split.
    std::array<std::vector<std::uint64_t>, 2> class_counts;
    // Exact sums over the stored pixels of the train images: per RGB channel the sum and
    // the sum of squares, then the pixel count.
    std::array<std::uint64_t, 7> pixel_sums{};
};

// The class table every shard and index.h5 carry, from the plan's classes.
h5::ClassTable class_table_of(const plan::Plan& plan);

// The manifest of the output (timings left empty): splits with their shards in path order
// and sample counts, classes with their counts, rejections sorted by key, duplicate and
// leak groups sorted by digest, mean and std from the exact sums.
manifest::Manifest build_manifest(const plan::Plan& plan,
                                  const nlohmann::ordered_json& recorded_options,
                                  GatheredOutcome outcome);

// index.h5's contents for `manifest` (built by build_manifest from the same plan); `keys`
// holds every stored key with its shard and row, by corpus::Split, and is moved in.
h5::IndexContents build_index(const plan::Plan& plan, const image::PipelineOptions& pipeline,
                              const manifest::Manifest& manifest,
                              std::array<h5::KeyLocations, 2> keys);

// 3 when an input was rejected for a reason other than a chosen cleanup, else 0.
ExitCode completion_code(const manifest::Manifest& manifest);

}  // namespace synshard::convert
