#include "synshard/plan/partition.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "synshard/plan/plan.hpp"
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
    std::uint64_t images = 0;
    for (const auto& sizes : classes) {
        total = std::accumulate(sizes.begin(), sizes.end(), total);
        images += sizes.size();
    }
    const std::uint64_t limit = piece_load_limit(load_of(total, images), ranks);
    std::vector<std::uint64_t> pieces;
    std::uint64_t covered = 0;
    for (const auto& sizes : classes) {
        std::uint32_t expected_begin = 0;
        for (const auto& range : cut_source(sizes, limit)) {
            EXPECT_EQ(range.begin, expected_begin);  // contiguous, in key order
            EXPECT_TRUE(range.load() <= limit || range.end - range.begin == 1);
            expected_begin = range.end;
            pieces.push_back(range.load());
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

// Classes whose images differ in size, from 10 KB to 1 MB on average: an image costs a
// rank its bytes (read, hashed, decoded) and as much again as 64 KiB would whatever its
// size (resized to the same output, encoded, spooled, written).
TEST(Partition, RanksAreBalancedInWorkWhereClassesDifferInImageSize) {
    Rng rng(512);
    std::vector<std::vector<std::uint64_t>> classes(2000);
    std::uint64_t total = 0;
    for (auto& sizes : classes) {
        const double u = rng.unit();
        sizes.resize(1 + static_cast<std::size_t>(2999.0 * u * u * u));
        const double mean = 10000.0 * std::pow(100.0, rng.unit());
        for (auto& size : sizes) {
            size = static_cast<std::uint64_t>(mean * (0.5 + rng.unit()));
            total += size;
        }
    }
    for (const int ranks : {64, 512}) {
        Plan plan;
        plan.bytes = {total, 0};
        partition_for(plan, classes, ranks);
        std::vector<std::uint64_t> work(static_cast<std::size_t>(ranks), 0);
        for (const auto& piece : plan.pieces) {
            work[static_cast<std::size_t>(piece.rank)] +=
                piece.bytes + std::uint64_t{65536} * (piece.end - piece.begin);
        }
        RecordProperty("max_over_mean_" + std::to_string(ranks),
                       std::to_string(max_over_mean(work)));
        EXPECT_LE(max_over_mean(work), 1.02) << ranks << " ranks";
    }
}

TEST(Partition, WithoutCuttingTheBiggestClassWouldDominate) {
    // One huge class among small ones: whole-class assignment could not be balanced.
    std::vector<std::uint64_t> huge(4000, 100);
    const auto ranges = cut_source(huge, piece_load_limit(load_of(4040 * 100, 4040), 8));
    EXPECT_GT(ranges.size(), 8u);
    EXPECT_EQ(ranges.back().end, 4000u);
}

TEST(Partition, CutSourceGivesNoPiecesForNoItemsAndAnOversizedItemAPieceOfItsOwn) {
    EXPECT_TRUE(cut_source({}, 10).empty());
    // Two items of 5 bytes fit the limit; one of 50 with any other does not.
    const std::uint64_t limit = 2 * kImageLoadBytes + 10;
    const std::vector<std::uint64_t> sizes{5, 50, 5, 5};
    EXPECT_EQ(cut_source(sizes, limit),
              (std::vector<ItemRange>{{0, 1, 5}, {1, 2, 50}, {2, 4, 10}}));
    EXPECT_EQ(cut_source(sizes, load_of(65, 4)), (std::vector<ItemRange>{{0, 4, 65}}));
    // Every item weighs more than a limit below kImageLoadBytes.
    EXPECT_EQ(cut_source(sizes, 1000).size(), 4u);
}

TEST(Partition, AnImageWeighsItsBytesAndTheWorkEveryImageCosts) {
    EXPECT_EQ(load_of(0, 0), 0u);
    EXPECT_EQ(load_of(1000, 3), 1000 + 3 * kImageLoadBytes);
    EXPECT_EQ((ItemRange{4, 7, 1000}).load(), load_of(1000, 3));
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
