// ImageNet-21k at --shard-size 128 needs over 99,999 shards: names grow to six digits.

#include <gtest/gtest.h>

#include "synshard/h5/format.hpp"
#include "synshard/plan/shard_limits.hpp"
#include "synshard/plan/shards.hpp"
#include "synshard/util/error.hpp"

namespace synshard {
namespace {

TEST(ShardNames, FiveDigitsUpTo99999ShardsAndSixBeyond) {
    EXPECT_EQ(h5::shard_file_name("train", 3, 10), "train-00003-of-00010.h5");
    EXPECT_EQ(h5::shard_file_name("train", 99998, 99999), "train-99998-of-99999.h5");
    // Index and count have the same width, so the names still sort in shard order.
    EXPECT_EQ(h5::shard_file_name("train", 5, 100000), "train-000005-of-100000.h5");
    EXPECT_EQ(h5::shard_file_name("val", 999998, 999999), "val-999998-of-999999.h5");
    EXPECT_TRUE(h5::is_shard_file_name("train", h5::shard_file_name("train", 5, 100000)));
}

TEST(ShardNames, CountsUpTo999999ShardsAreAccepted) {
    EXPECT_EQ(plan::kMaxShardCount, 999'999U);
    // ImageNet-21k's 14,197,122 images at --shard-size 128.
    EXPECT_EQ(plan::shard_count_for(14'197'122, 128, 0), 110'916U);
    EXPECT_EQ(plan::shard_count_for(999'999ULL * 128, 128, 0), 999'999U);
    EXPECT_THROW(plan::shard_count_for(999'999ULL * 128 + 1, 128, 0), Error);
}

}  // namespace
}  // namespace synshard
