#include "synshard/util/quantity.hpp"

#include <gtest/gtest.h>

namespace synshard {
namespace {

TEST(Quantity, CountsAreSingularForOneAndPluralOtherwise) {
    EXPECT_EQ(count_of(1, "shard"), "1 shard");
    EXPECT_EQ(count_of(2, "shard"), "2 shards");
    EXPECT_EQ(count_of(0, "shard"), "0 shards");
    EXPECT_EQ(count_of(1, "class"), "1 class");
    EXPECT_EQ(count_of(1000, "class"), "1000 classes");
    EXPECT_EQ(count_of(3, "box"), "3 boxes");
    EXPECT_EQ(count_of(2, "index", "indices"), "2 indices");
    EXPECT_EQ(count_of(1, "index", "indices"), "1 index");
}

TEST(Quantity, PercentsKeepOneDecimalAndNeverRoundToTheEnds) {
    EXPECT_EQ(percent_of(998, 1000), "99.8%");
    EXPECT_EQ(percent_of(1, 4), "25.0%");
    EXPECT_EQ(percent_of(9999, 10000), "99.9%");
    EXPECT_EQ(percent_of(1, 10000), "0.1%");
    EXPECT_EQ(percent_of(0, 10), "0%");
    EXPECT_EQ(percent_of(10, 10), "100%");
    EXPECT_EQ(percent_of(0, 0), "0%");
}

TEST(Quantity, PixelsHaveThreeSignificantDigits) {
    EXPECT_EQ(pixel_count(2'290'000), "2.29 Mpixel");
    EXPECT_EQ(pixel_count(12'000'000), "12.0 Mpixel");
    EXPECT_EQ(pixel_count(786'432), "786 kpixel");
    EXPECT_EQ(pixel_count(999'999), "1.00 Mpixel");
    EXPECT_EQ(pixel_count(512), "512 pixel");
}

}  // namespace
}  // namespace synshard
