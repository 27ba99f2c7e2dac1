#include "synshard/plan/shards.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "synshard/util/error.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::plan {
namespace {

TEST(ShardCount, CeilOfSamplesOverShardSizeUnlessRequested) {
    EXPECT_EQ(shard_count_for(0, 1024, 0), 0U);
    EXPECT_EQ(shard_count_for(1, 1024, 0), 1U);
    EXPECT_EQ(shard_count_for(1024, 1024, 0), 1U);
    EXPECT_EQ(shard_count_for(1025, 1024, 0), 2U);
    EXPECT_EQ(shard_count_for(1281167, 1024, 0), 1252U);
    EXPECT_EQ(shard_count_for(5000, 1024, 7), 7U);
    EXPECT_THROW(shard_count_for(3, 1024, 4), Error);
    EXPECT_THROW(shard_count_for(0, 1024, 2), Error);
    EXPECT_EQ(shard_count_for(~std::uint64_t{0}, ~std::uint64_t{0}, 0), 1U);
}

// The documented construction applied to a skewed class distribution: shard sizes
// differ by at most one, and every class's count in a shard is the floor or ceiling of
// its share.
TEST(ShardAssignment, BalancedByConstruction) {
    const std::vector<int> class_sizes{1, 7, 300, 33, 2, 1000, 64};
    struct Image {
        std::int32_t label;
        std::uint64_t hash;
        std::string key;
    };
    std::vector<Image> images;
    for (std::size_t label = 0; label < class_sizes.size(); ++label) {
        for (int i = 0; i < class_sizes[label]; ++i) {
            std::string key = "n" + std::to_string(label) + "/" + std::to_string(i) + ".JPEG";
            images.push_back({static_cast<std::int32_t>(label), keyed_hash(42, key), key});
        }
    }
    std::sort(images.begin(), images.end(), [](const Image& a, const Image& b) {
        if (a.label != b.label) return a.label < b.label;
        return HashOrder{a.hash, a.key} < HashOrder{b.hash, b.key};
    });
    const std::uint32_t shards = shard_count_for(images.size(), 100, 0);
    ASSERT_EQ(shards, 15U);
    std::vector<std::uint64_t> sizes(shards);
    std::map<std::pair<std::int32_t, std::uint32_t>, std::uint64_t> per_class;
    for (std::size_t j = 0; j < images.size(); ++j) {
        const auto shard = shard_for_position(j, shards);
        ++sizes[shard];
        ++per_class[{images[j].label, shard}];
    }
    const auto [smallest, largest] = std::minmax_element(sizes.begin(), sizes.end());
    EXPECT_LE(*largest - *smallest, 1U);
    for (std::size_t label = 0; label < class_sizes.size(); ++label) {
        const std::uint64_t floor_share = static_cast<std::uint64_t>(class_sizes[label]) / shards;
        for (std::uint32_t shard = 0; shard < shards; ++shard) {
            const auto count = per_class[{static_cast<std::int32_t>(label), shard}];
            EXPECT_TRUE(count == floor_share || count == floor_share + 1)
                << "class " << label << " shard " << shard << " has " << count;
        }
    }
}

TEST(HashOrder, KeyBreaksTies) {
    EXPECT_TRUE((HashOrder{1, "b"} < HashOrder{2, "a"}));
    EXPECT_TRUE((HashOrder{2, "a"} < HashOrder{2, "b"}));
    EXPECT_FALSE((HashOrder{2, "b"} < HashOrder{2, "b"}));
}

TEST(Duplicates, WithinAClassTheSmallestKeyIsKeptWhateverTheOrder) {
    std::vector<ContentCopy> copies{
        {"n1/c.JPEG", 3, false}, {"n1/a.JPEG", 3, false}, {"n1/b.JPEG", 3, false}};
    for (int turn = 0; turn < 3; ++turn) {
        std::rotate(copies.begin(), copies.begin() + 1, copies.end());
        const auto verdict = resolve_duplicates(copies, false);
        ASSERT_EQ(verdict.dropped.size(), 2U);
        EXPECT_EQ(verdict.dropped[0].key, "n1/b.JPEG");
        EXPECT_EQ(verdict.dropped[0].same_as, "n1/a.JPEG");
        EXPECT_EQ(verdict.dropped[1].key, "n1/c.JPEG");
        EXPECT_FALSE(verdict.across_classes);
        EXPECT_FALSE(verdict.leak);
    }
}

TEST(Duplicates, AcrossClassesAllAreKeptAndReported) {
    const auto verdict =
        resolve_duplicates({{"n1/x.JPEG", 1, false}, {"n2/y.JPEG", 2, false}}, true);
    EXPECT_TRUE(verdict.dropped.empty());
    EXPECT_TRUE(verdict.across_classes);
    EXPECT_FALSE(verdict.leak);
}

TEST(Duplicates, LeaksAreReportedAndTrainCopiesDroppedOnlyWhenAsked) {
    const std::vector<ContentCopy> copies{{"val/v1.JPEG", 1, true}, {"n1/t.JPEG", 1, false}};
    const auto reported = resolve_duplicates(copies, false);
    EXPECT_TRUE(reported.leak);
    EXPECT_TRUE(reported.dropped.empty());
    const auto dropped = resolve_duplicates(copies, true);
    ASSERT_EQ(dropped.dropped.size(), 1U);
    EXPECT_EQ(dropped.dropped[0].key, "n1/t.JPEG");
    EXPECT_EQ(dropped.dropped[0].same_as, "val/v1.JPEG");
}

}  // namespace
}  // namespace synshard::plan
