#pragma once

// A small, complete, deterministic synshard output written through the storage API (no
// converter): shards of real JPEG (or raw) images, index.h5 and manifest.json. Shared by
// the unit tests and by the Python check's writer.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "synshard/h5/index_writer.hpp"
#include "synshard/h5/shard_writer.hpp"
#include "synshard/manifest/manifest.hpp"

namespace synshard::testing {

// Three classes under a small two-parent hierarchy.
h5::ClassTable sample_class_table();
h5::Hierarchy sample_hierarchy();

// A real baseline JPEG of a width x height RGB pattern that depends on seed.
std::vector<std::uint8_t> make_jpeg(int width, int height, std::uint64_t seed);

// Samples of a split: labels cycle through the classes, box counts cycle 0, 1, 2, one
// key is non-ASCII UTF-8. Encoded samples hold JPEGs of varying size (source_sha256 is
// the JPEG's); raw ones hold kRawHeight x kRawWidth x 3 pixels.
inline constexpr std::int32_t kRawHeight = 12;
inline constexpr std::int32_t kRawWidth = 16;
std::vector<h5::SampleRow> make_samples(const std::string& split, int count, bool raw,
                                        int jpeg_side = 48);

struct SampleOutput {
    std::vector<h5::PublishedShard> shards;  // train shards then val shards
    h5::IndexContents index;
    manifest::Manifest manifest;
};

// Writes OUT with train (kTrainSamples over 2 shards) and val (kValSamples, 1 shard),
// sample j of a split going to shard j mod S, then index.h5 and manifest.json.
inline constexpr int kTrainSamples = 11;
inline constexpr int kValSamples = 4;
SampleOutput write_sample_output(const std::filesystem::path& out, bool raw);

}  // namespace synshard::testing
