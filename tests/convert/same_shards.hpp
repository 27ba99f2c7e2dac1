#pragma once

// Shared by the tests that convert one corpus given in several layouts: every layout's
// output must hold the very shards of the folders' output.

#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_support.hpp"
#include "synshard/manifest/manifest.hpp"

namespace synshard::testing {

// The shards of actual_out are byte for byte those of expected_out (at least 2 train
// shards, so that the comparison covers the shard assignment too).
inline void expect_same_shards(const std::filesystem::path& expected_out,
                               const std::filesystem::path& actual_out) {
    const auto expected = manifest::read_manifest(expected_out / "manifest.json");
    const auto actual = manifest::read_manifest(actual_out / "manifest.json");
    for (const auto& difference : manifest::compare_shards(expected, actual)) {
        ADD_FAILURE() << actual_out << ": " << manifest::describe(difference);
    }
    EXPECT_GE(expected.splits.at("train").shards.size(), 2U);
    EXPECT_EQ(file_digests(expected_out / "train"), file_digests(actual_out / "train"));
    EXPECT_EQ(file_digests(expected_out / "val"), file_digests(actual_out / "val"));
}

}  // namespace synshard::testing
