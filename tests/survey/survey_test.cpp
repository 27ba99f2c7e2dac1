#include "synshard/survey/survey.hpp"

#include <gtest/gtest.h>

#include <map>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::survey {
namespace {

using corpus::CorpusOptions;
using corpus::Item;
using corpus::Split;
using plan::DroppedClass;
using plan::Plan;

std::map<std::string, Item> all_items(const PlanResult& result) {
    std::map<std::string, Item> items;
    for (std::size_t piece = 0; piece < result.share.pieces.size(); ++piece) {
        for (const auto& item : result.share_items(piece)) items.emplace(item.key, item);
    }
    return items;
}

const Rejection* find(const std::vector<Rejection>& rejected, const std::string& key) {
    for (const auto& rejection : rejected) {
        if (rejection.key == key) return &rejection;
    }
    return nullptr;
}

nlohmann::json comparable(const PlanResult& result) {
    auto json = plan::to_json(result.plan, result.rejected);
    json.erase("partition");
    return json;
}

TEST(Survey, EveryScannedInputIsPlannedOrRejectedWithItsReason) {
    testing::TempDir dir;
    testing::make_quirky_corpus(dir.path());
    CorpusOptions options;
    options.input = dir / "dirs";
    options.val_input = dir / "val";
    options.val_labels = dir / "LOC_val_solution.csv";
    options.boxes = {dir / "Annotation", dir / "LOC_val_solution.csv"};
    options.min_per_class = 5;
    mpi::Comm comm;
    const PlanResult result = make_plan(options, comm);
    const Plan& plan = result.plan;

    ASSERT_EQ(plan.classes.size(), 3u);
    EXPECT_EQ(plan.classes[0].wnid, "n01440764");
    EXPECT_EQ(plan.classes[2].wnid, "n02123045");
    EXPECT_EQ(plan.classes[2].words, "tabby, tabby cat");
    EXPECT_EQ(plan.classes[0].images, (std::array<std::uint64_t, 2>{12, 2}));
    EXPECT_EQ(plan.dropped_classes, (std::vector<DroppedClass>{{"n01484850", 3}}));
    EXPECT_EQ(plan.images, (std::array<std::uint64_t, 2>{30, 3}));
    EXPECT_EQ(plan.val_rule, "official");

    const auto& rejected = result.rejected;
    EXPECT_EQ(find(rejected, ".DS_Store")->reason, Reason::hidden);
    EXPECT_EQ(find(rejected, "README.txt")->reason, Reason::unlabeled);
    EXPECT_EQ(find(rejected, "n01484850/n01484850_1.JPEG")->reason, Reason::class_too_small);
    EXPECT_EQ(find(rejected, "val/ILSVRC2012_val_00000003.JPEG")->reason, Reason::unknown_class);
    EXPECT_EQ(find(rejected, "val/ILSVRC2012_val_00000004.JPEG")->reason, Reason::class_too_small);
    EXPECT_EQ(find(rejected, "val/ILSVRC2012_val_00000006.JPEG")->reason, Reason::unlabeled);
    EXPECT_EQ(rejected.size(), 2u + 3u + 3u);
    EXPECT_EQ(plan.rejected_total(), rejected.size());
    // 33 train files + 2 root entries + 6 val images, every one accounted for.
    EXPECT_EQ(plan.scanned, 41u);
    EXPECT_EQ(plan.scanned, plan.images[0] + plan.images[1] + plan.rejected_total());
    ASSERT_EQ(plan.notes.size(), 1u);
    EXPECT_NE(plan.notes[0].find("ILSVRC2012_val_00000007"), std::string::npos);

    const auto items = all_items(result);
    EXPECT_EQ(items.size(), 33u);
    const Item& tench = items.at("n01440764/n01440764_1.JPEG");
    EXPECT_EQ(tench.label, 0);
    EXPECT_EQ(tench.hash, keyed_hash(0, tench.key));
    ASSERT_EQ(tench.boxes.size(), 2u);
    EXPECT_EQ(tench.boxes[0].box, (image::Box{0, 4, 100, 50}));  // clamped to <size>
    EXPECT_EQ(tench.boxes[1].wnid, "n01440764");  // a class name, resolved by the folder
    EXPECT_EQ(tench.boxes[1].label, 0);
    const Item& goldfish_val = items.at("val/ILSVRC2012_val_00000002.JPEG");
    EXPECT_EQ(goldfish_val.split, Split::val);
    EXPECT_EQ(goldfish_val.label, 1);
    ASSERT_EQ(goldfish_val.boxes.size(), 2u);
    EXPECT_EQ(goldfish_val.boxes[1].wnid, "n01443537");  // "goldfish" resolved by WordNet words
    EXPECT_EQ(plan.boxes.fixed, 1u);
    EXPECT_EQ(plan.boxes.class_names, 2u);
    EXPECT_EQ(plan.boxes.placeholders, 1u);
    // n01440764_99 and val images 3 (unknown class), 4 (dropped class), 7 (missing).
    EXPECT_EQ(plan.boxes.unmatched, 4u);
    // The plan's hierarchy holds the classes and their ancestors up to entity.
    EXPECT_NO_THROW(plan.hierarchy.index_of("n02121808"));
    EXPECT_NO_THROW(plan.hierarchy.index_of("n00001740"));
}

TEST(Survey, FoldersAndTarsGiveTheSamePlan) {
    testing::TempDir dir;
    testing::make_two_layouts(dir.path(), {12, 8, 3, 10});
    CorpusOptions options;
    options.seed = 7;
    options.val_per_class = 2;
    options.max_per_class = 9;
    mpi::Comm comm;
    options.input = dir / "dirs";
    const auto folders = make_plan(options, comm);
    options.input = dir / "tars";
    const auto tars = make_plan(options, comm);
    auto a = comparable(folders);
    auto b = comparable(tars);
    a.erase("sources");  // folder vs tar kinds
    b.erase("sources");
    EXPECT_EQ(a, b);
    EXPECT_EQ(folders.plan.images, (std::array<std::uint64_t, 2>{7 + 6 + 2 + 7, 2 + 2 + 1 + 2}));
    EXPECT_EQ(folders.plan.rejected_counts.at(Reason::over_class_cap), 3u + 1u);
    const auto x = all_items(folders);
    const auto y = all_items(tars);
    ASSERT_EQ(x.size(), y.size());
    for (const auto& [key, item] : x) {
        const Item& other = y.at(key);
        EXPECT_EQ(item.split, other.split) << key;
        EXPECT_EQ(item.label, other.label) << key;
        EXPECT_EQ(item.hash, other.hash) << key;
        EXPECT_EQ(item.size, other.size) << key;
        EXPECT_FALSE(other.member.empty());
    }
}

TEST(Survey, WithoutAValRuleThereIsNoValSplit) {
    testing::TempDir dir;
    testing::make_two_layouts(dir.path(), {4, 4});
    CorpusOptions options;
    options.input = dir / "tars";
    mpi::Comm comm;
    const auto result = make_plan(options, comm);
    EXPECT_EQ(result.plan.val_rule, "none");
    EXPECT_EQ(result.plan.images, (std::array<std::uint64_t, 2>{8, 0}));
    EXPECT_TRUE(result.rejected.empty());
}

}  // namespace
}  // namespace synshard::survey
