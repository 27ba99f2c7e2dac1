#include "synshard/plan/partition.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "synshard/util/rng.hpp"

namespace synshard::plan {
namespace {

// An ImageNet-21k-like corpus: 21,841 classes from 1 to ~3,000 images (most small, a
// long tail of big ones), images of 20-200 KB.
std::vector<std::vector<std::uint64_t>> skewed_corpus() {
    Rng rng(21841);
    std::vector<std::vector<std::uint64_t>> classes(21841);
    for (auto& sizes : classes) {
        const double u = rng.unit();
        const auto images = 1 + static_cast<std::size_t>(2999.0 * u * u * u);
        sizes.resize(images);
        for (auto& size : sizes) size = 20000 + rng.below(180000);
    }
    return classes;
}

double partition_max_over_mean(const std::vector<std::vector<std::uint64_t>>& classes, int ranks) {
    std::uint64_t total = 0;
    for (const auto& sizes : classes) total = std::accumulate(sizes.begin(), sizes.end(), total);
    const std::uint64_t limit = piece_byte_limit(total, ranks);
    std::vector<std::uint64_t> pieces;
    std::uint64_t covered = 0;
    for (const auto& sizes : classes) {
        std::uint32_t expected_begin = 0;
        for (const auto& range : cut_source(sizes, limit)) {
            EXPECT_EQ(range.begin, expected_begin);  // contiguous, in key order
            EXPECT_TRUE(range.bytes <= limit || range.end - range.begin == 1);
            expected_begin = range.end;
            pieces.push_back(range.bytes);
            covered += range.bytes;
        }
        EXPECT_EQ(expected_begin, sizes.size());
    }
    EXPECT_EQ(covered, total);
    const auto owners = assign_pieces(pieces, ranks);
    return max_over_mean(rank_loads(pieces, owners, ranks));
}

TEST(Partition, SkewedTwentyOneKCorpusIsBalancedAt64And512And4096Ranks) {
    const auto classes = skewed_corpus();
    for (const int ranks : {64, 512, 4096}) {
        const double ratio = partition_max_over_mean(classes, ranks);
        RecordProperty("max_over_mean_" + std::to_string(ranks), std::to_string(ratio));
        EXPECT_LE(ratio, 1.05) << ranks << " ranks";
    }
}

TEST(Partition, WithoutCuttingTheBiggestClassWouldDominate) {
    // One huge class among small ones: whole-class assignment could not be balanced.
    std::vector<std::uint64_t> huge(4000, 100);
    const auto ranges = cut_source(huge, piece_byte_limit(4000 * 100 + 40 * 100, 8));
    EXPECT_GT(ranges.size(), 8u);
    EXPECT_EQ(ranges.back().end, 4000u);
}

TEST(Partition, CutSourceGivesNoPiecesForNoItemsAndAnOversizedItemAPieceOfItsOwn) {
    EXPECT_TRUE(cut_source({}, 10).empty());
    const std::vector<std::uint64_t> sizes{5, 50, 5, 5};
    EXPECT_EQ(cut_source(sizes, 10), (std::vector<ItemRange>{{0, 1, 5}, {1, 2, 50}, {2, 4, 10}}));
    EXPECT_EQ(cut_source(sizes, 1000), (std::vector<ItemRange>{{0, 4, 65}}));
}

TEST(Partition, AssignmentIsLargestFirstAndDeterministic) {
    const std::vector<std::uint64_t> pieces{1, 9, 4, 4, 7};
    const auto owners = assign_pieces(pieces, 2);
    EXPECT_EQ(owners, assign_pieces(pieces, 2));
    EXPECT_EQ(owners[1], 0);  // 9 first, to rank 0
    EXPECT_EQ(owners[4], 1);  // 7 to rank 1
    EXPECT_EQ(rank_loads(pieces, owners, 2), (std::vector<std::uint64_t>{13, 12}));
    EXPECT_DOUBLE_EQ(max_over_mean(std::vector<std::uint64_t>{0, 0}), 1.0);
}

}  // namespace
}  // namespace synshard::plan
