#include "synshard/reader/sample_order.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "synshard/util/error.hpp"

namespace synshard::reader {
namespace {

std::vector<std::uint64_t> whole_epoch(const std::vector<std::uint64_t>& shard_sizes,
                                       OrderOptions options) {
    options.rank = 0;
    options.world_size = 1;
    const EpochOrder order(shard_sizes, options);
    return order.samples(0, order.size());
}

TEST(EpochOrder, OneRankReadsEverySampleOnceInAPermutationThatDependsOnSeedAndEpoch) {
    const std::vector<std::uint64_t> shards{10, 10, 10, 7};
    OrderOptions options;
    options.shuffle_buffer = 8;
    const std::vector<std::uint64_t> epoch = whole_epoch(shards, options);
    ASSERT_EQ(epoch.size(), 37U);
    std::vector<std::uint64_t> sorted = epoch;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::uint64_t> all(37);
    std::iota(all.begin(), all.end(), 0U);
    EXPECT_EQ(sorted, all);
    EXPECT_NE(epoch, all) << "shuffled";
    EXPECT_EQ(whole_epoch(shards, options), epoch) << "a pure function of the options";
    OrderOptions next_epoch = options;
    next_epoch.epoch = 1;
    EXPECT_NE(whole_epoch(shards, next_epoch), epoch);
    OrderOptions other_seed = options;
    other_seed.seed = 1;
    EXPECT_NE(whole_epoch(shards, other_seed), epoch);
    OrderOptions in_order = options;
    in_order.shuffle = false;
    EXPECT_EQ(whole_epoch(shards, in_order), all);
}

TEST(EpochOrder, ReadsMoveThroughPermutedShardsOneWindowAtATime) {
    // Shards of 10 and windows of 5: every window is 5 consecutive rows of one shard.
    const std::vector<std::uint64_t> shards{10, 10, 10, 10};
    OrderOptions options;
    options.shuffle_buffer = 5;
    options.epoch = 3;
    const std::vector<std::uint64_t> epoch = whole_epoch(shards, options);
    std::vector<std::uint64_t> shard_order;
    for (std::size_t start = 0; start < epoch.size(); start += 5) {
        std::vector<std::uint64_t> window(epoch.begin() + static_cast<std::ptrdiff_t>(start),
                                          epoch.begin() + static_cast<std::ptrdiff_t>(start + 5));
        std::sort(window.begin(), window.end());
        EXPECT_EQ(window.back() - window.front(), 4U) << "window at " << start;
        EXPECT_EQ(window.front() % 5, 0U) << "window at " << start;
        if (start % 10 == 0) {
            shard_order.push_back(window.front() / 10);
        } else {
            EXPECT_EQ(window.front(), shard_order.back() * 10 + 5) << "the shard's second half";
        }
    }
    EXPECT_NE(shard_order, (std::vector<std::uint64_t>{0, 1, 2, 3})) << "shards permuted";
    // A buffer of 1 shuffles the shards only: each is read in row order.
    options.shuffle_buffer = 1;
    const std::vector<std::uint64_t> rows_in_order = whole_epoch(shards, options);
    for (std::size_t i = 0; i < rows_in_order.size(); ++i) {
        if (i % 10 != 0) {
            EXPECT_EQ(rows_in_order[i], rows_in_order[i - 1] + 1) << i;
        }
    }
}

// torch.utils.data.DistributedSampler, given the epoch's order as its `indices`.
std::vector<std::uint64_t> distributed_sampler(std::vector<std::uint64_t> indices,
                                               std::uint32_t rank, std::uint32_t world_size,
                                               bool drop_last) {
    const std::size_t n = indices.size();
    if (drop_last) {
        indices.resize(n / world_size * world_size);
    } else {
        const std::size_t total = (n + world_size - 1) / world_size * world_size;
        for (std::size_t i = n; i < total; ++i) indices.push_back(indices[(i - n) % n]);
    }
    std::vector<std::uint64_t> mine;
    for (std::size_t i = rank; i < indices.size(); i += world_size) mine.push_back(indices[i]);
    return mine;
}

TEST(EpochOrder, RanksSplitTheEpochAsDistributedSamplerDoes) {
    for (const std::vector<std::uint64_t>& shards :
         std::vector<std::vector<std::uint64_t>>{{10, 10, 10, 7}, {3}, {1, 1}, {5, 0, 4}}) {
        const std::uint64_t n = std::accumulate(shards.begin(), shards.end(), std::uint64_t{0});
        for (const std::uint32_t world_size : {1U, 2U, 3U, 4U, 5U}) {
            for (const bool drop_last : {false, true}) {
                OrderOptions options;
                options.shuffle_buffer = 4;
                options.seed = 11;
                options.epoch = world_size;
                options.drop_last = drop_last;
                options.world_size = world_size;
                const std::vector<std::uint64_t> epoch = whole_epoch(shards, options);
                std::map<std::uint64_t, int> times_read;
                std::size_t total = 0;
                for (std::uint32_t rank = 0; rank < world_size; ++rank) {
                    options.rank = rank;
                    const EpochOrder order(shards, options);
                    const std::uint64_t expected_size =
                        drop_last ? n / world_size : (n + world_size - 1) / world_size;
                    ASSERT_EQ(order.size(), expected_size);
                    const std::vector<std::uint64_t> mine = order.samples(0, order.size());
                    EXPECT_EQ(mine, distributed_sampler(epoch, rank, world_size, drop_last))
                        << "rank " << rank << " of " << world_size;
                    // Any slice is the same samples as the whole (threads ask for slices).
                    for (std::uint64_t first = 0; first < mine.size(); first += 3) {
                        const std::vector<std::uint64_t> slice = order.samples(first, 3);
                        EXPECT_TRUE(std::equal(slice.begin(), slice.end(),
                                               mine.begin() + static_cast<std::ptrdiff_t>(first)));
                    }
                    EXPECT_TRUE(order.samples(order.size(), 5).empty());
                    for (const std::uint64_t sample : mine) ++times_read[sample];
                    total += mine.size();
                }
                if (drop_last) {
                    EXPECT_EQ(total, n / world_size * world_size);
                    for (const auto& [sample, times] : times_read) EXPECT_EQ(times, 1) << sample;
                } else {
                    // Complete, and the only repeats are the padding.
                    EXPECT_EQ(times_read.size(), n);
                    EXPECT_EQ(total, (n + world_size - 1) / world_size * world_size);
                }
            }
        }
    }
}

TEST(EpochOrder, RejectsARankOutsideTheWorld) {
    OrderOptions options;
    options.rank = 2;
    options.world_size = 2;
    EXPECT_THROW(EpochOrder({4}, options), Error);
    options.rank = 0;
    options.world_size = 0;
    EXPECT_THROW(EpochOrder({4}, options), Error);
}

TEST(SampleSeed, DependsOnSeedEpochAndIndex) {
    std::set<std::uint64_t> seeds;
    for (std::uint64_t seed = 0; seed < 3; ++seed) {
        for (std::uint64_t epoch = 0; epoch < 3; ++epoch) {
            for (std::uint64_t index = 0; index < 3; ++index) {
                seeds.insert(sample_seed(seed, epoch, index));
            }
        }
    }
    EXPECT_EQ(seeds.size(), 27U);
    EXPECT_EQ(sample_seed(4, 5, 6), sample_seed(4, 5, 6));
}

}  // namespace
}  // namespace synshard::reader
