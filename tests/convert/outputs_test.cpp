#include "synshard/convert/outputs.hpp"

#include <gtest/gtest.h>

namespace synshard::convert {
namespace {

// Two classes (tench, goldfish), one WordNet edge between made-up ancestors.
plan::Plan two_class_plan() {
    plan::Plan plan;
    plan.seed = 7;
    plan.input_fingerprint = "ab12";
    plan.classes.push_back({0, "n01440764", "tench", "a fish", 0, {"n00001740"}, {}});
    plan.classes.push_back({1, "n01443537", "goldfish", "a small fish", 0, {"n00001740"}, {}});
    plan.hierarchy.nodes = {{"n00001740", "entity", "", 0},
                            {"n01440764", "tench", "a fish", 1},
                            {"n01443537", "goldfish", "a small fish", 1}};
    plan.hierarchy.edges = {{0, 1}, {0, 2}};
    return plan;
}

GatheredOutcome two_class_outcome() {
    GatheredOutcome outcome;
    outcome.rejected = {{"n01443537/b.JPEG", Reason::corrupt, "bad"},
                        {"n01440764/a.JPEG", Reason::duplicate, "same bytes as x"}};
    outcome.duplicates = {{"ff", {"k2", "k3"}}, {"0a", {"k0", "k1"}}};
    outcome.shards = {
        {"val/val-00000-of-00001.h5", {"val/val-00000-of-00001.h5", 2, 20, "v"}},
        {"train/train-00001-of-00002.h5", {"train/train-00001-of-00002.h5", 3, 30, "b"}},
        {"train/train-00000-of-00002.h5", {"train/train-00000-of-00002.h5", 4, 40, "a"}}};
    outcome.class_counts = {std::vector<std::uint64_t>{5, 2}, std::vector<std::uint64_t>{1, 1}};
    // Two pixels: (10, 20, 30) and (30, 20, 10).
    outcome.pixel_sums = {40, 40, 40, 1000, 800, 1000, 2};
    return outcome;
}

TEST(Outputs, TheManifestSortsWhatRanksGatheredAndCountsEverySplitAndClass) {
    const auto plan = two_class_plan();
    const auto manifest = build_manifest(plan, {{"seed", 7}}, two_class_outcome());
    EXPECT_EQ(manifest.options, (nlohmann::ordered_json{{"seed", 7}}));
    EXPECT_EQ(manifest.seed, 7u);
    EXPECT_EQ(manifest.input_fingerprint, "ab12");
    ASSERT_EQ(manifest.rejected.size(), 2u);
    EXPECT_EQ(manifest.rejected[0].key, "n01440764/a.JPEG");
    EXPECT_EQ(manifest.duplicates.front().source_sha256, "0a");
    const auto& train = manifest.splits.at("train");
    EXPECT_EQ(train.num_samples, 7u);
    ASSERT_EQ(train.shards.size(), 2u);
    EXPECT_EQ(train.shards[0].sha256, "a");
    EXPECT_EQ(manifest.splits.at("val").num_samples, 2u);
    ASSERT_EQ(manifest.classes.size(), 2u);
    EXPECT_EQ(manifest.classes[1].synset, "n01443537");
    EXPECT_EQ(manifest.classes[1].counts.at("train"), 2u);
    EXPECT_EQ(manifest.classes[1].counts.at("val"), 1u);
    EXPECT_DOUBLE_EQ(manifest.stats.mean[0], 20.0);
    EXPECT_DOUBLE_EQ(manifest.stats.std[0], 10.0);
    EXPECT_DOUBLE_EQ(manifest.stats.std[1], 0.0);
    EXPECT_EQ(completion_code(manifest), ExitCode::completed_with_rejections);
}

TEST(Outputs, OnlyChosenCleanupsCompleteWithSuccess) {
    auto outcome = two_class_outcome();
    outcome.rejected.erase(outcome.rejected.begin());
    EXPECT_EQ(completion_code(build_manifest(two_class_plan(), {}, outcome)), ExitCode::success);
}

TEST(Outputs, TheIndexListsEverySplitsShardsKeysAndTheClassNodes) {
    const auto plan = two_class_plan();
    const auto manifest = build_manifest(plan, {}, two_class_outcome());
    std::array<h5::KeyLocations, 2> keys;
    keys[0].push_back("n01440764/a.JPEG", 0, 0);
    image::PipelineOptions pipeline;
    const auto index = build_index(plan, pipeline, manifest, std::move(keys));
    EXPECT_EQ(index.encoding, "jpeg");
    ASSERT_EQ(index.splits.size(), 2u);
    EXPECT_EQ(index.splits[0].name, "train");
    EXPECT_EQ(index.splits[0].shard_num_samples, (std::vector<std::uint64_t>{4, 3}));
    EXPECT_EQ(index.splits[0].keys.size(), 1u);
    EXPECT_EQ(index.splits[1].shard_num_samples, (std::vector<std::uint64_t>{2}));
    EXPECT_EQ(index.hierarchy.class_nodes, (std::vector<std::int32_t>{1, 2}));
    EXPECT_EQ(index.classes.classes.size(), 2u);
    EXPECT_EQ(index.label_scheme, manifest.label_scheme);
}

}  // namespace
}  // namespace synshard::convert
