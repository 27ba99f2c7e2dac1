#include "synshard/plan/selection.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "synshard/util/error.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::plan {
namespace {

using corpus::LabelScheme;

struct ClassItems {
    std::vector<std::uint64_t> hashes;
    std::vector<std::string> keys;
};

ClassItems items(int n, std::uint64_t seed) {
    ClassItems out;
    for (int i = 0; i < n; ++i) {
        out.keys.push_back("n01440764/n01440764_" + std::to_string(i) + ".JPEG");
        out.hashes.push_back(keyed_hash(seed, out.keys.back()));
    }
    return out;
}

std::size_t count(const std::vector<Fate>& fates, Fate fate) {
    return static_cast<std::size_t>(std::count(fates.begin(), fates.end(), fate));
}

TEST(Split, NoRuleKeepsEverythingInTrain) {
    const auto c = items(10, 1);
    EXPECT_EQ(count(split_class(c.hashes, c.keys, {}), Fate::train), 10u);
}

TEST(Split, ValPerClassTakesMinOfKAndHalfTheSmallestHashes) {
    const auto c = items(7, 3);
    const auto fates = split_class(c.hashes, c.keys, {std::nullopt, 5, std::nullopt});
    EXPECT_EQ(count(fates, Fate::val), 3u);  // floor(7/2)
    const auto few = split_class(c.hashes, c.keys, {std::nullopt, 2, std::nullopt});
    EXPECT_EQ(count(few, Fate::val), 2u);
    const std::uint64_t largest_val = [&] {
        std::uint64_t m = 0;
        for (std::size_t i = 0; i < few.size(); ++i) {
            if (few[i] == Fate::val) m = std::max(m, c.hashes[i]);
        }
        return m;
    }();
    for (std::size_t i = 0; i < few.size(); ++i) {
        if (few[i] == Fate::train) {
            EXPECT_GT(c.hashes[i], largest_val);
        }
    }
}

TEST(Split, ValFractionRoundsAndCapComesFirst) {
    const auto c = items(10, 5);
    EXPECT_EQ(count(split_class(c.hashes, c.keys, {std::nullopt, std::nullopt, 0.25}), Fate::val),
              3u);  // round(2.5)
    const auto capped = split_class(c.hashes, c.keys, {6, std::nullopt, 0.5});
    EXPECT_EQ(count(capped, Fate::over_cap), 4u);
    EXPECT_EQ(count(capped, Fate::val), 3u);
    EXPECT_EQ(count(capped, Fate::train), 3u);
}

TEST(Split, DependsOnlyOnSeedAndKeysNotOnOrder) {
    auto c = items(50, 9);
    const auto fates = split_class(c.hashes, c.keys, {20, 5, std::nullopt});
    std::vector<std::size_t> order(50);
    for (std::size_t i = 0; i < 50; ++i) order[i] = 49 - i;
    ClassItems reversed;
    for (auto i : order) {
        reversed.hashes.push_back(c.hashes[i]);
        reversed.keys.push_back(c.keys[i]);
    }
    const auto reversed_fates = split_class(reversed.hashes, reversed.keys, {20, 5, std::nullopt});
    for (std::size_t k = 0; k < 50; ++k) EXPECT_EQ(reversed_fates[k], fates[order[k]]);
    const auto other_seed = items(50, 10);
    EXPECT_NE(split_class(other_seed.hashes, other_seed.keys, {20, 5, std::nullopt}), fates);
}

TEST(Selection, SortedSchemeDropsSmallClassesAndNumbersDensely) {
    const std::map<std::string, std::uint64_t> counts{{"n03", 10}, {"n01", 2}, {"n02", 7}};
    const auto chosen = select_classes(counts, std::nullopt, 5, LabelScheme::sorted, nullptr);
    EXPECT_EQ(chosen.classes,
              (std::vector<std::pair<std::string, std::int32_t>>{{"n02", 0}, {"n03", 1}}));
    EXPECT_EQ(chosen.dropped, (std::vector<DroppedClass>{{"n01", 2}}));
    EXPECT_TRUE(chosen.was_dropped("n01"));
    EXPECT_EQ(chosen.label_of("n03"), 1);
    EXPECT_FALSE(chosen.label_of("n01"));
}

TEST(Selection, FileSchemeFollowsTheListAndIlsvrcUsesDevkitIds) {
    const std::map<std::string, std::uint64_t> counts{{"n01", 3}, {"n02", 3}, {"n03", 3}};
    const std::vector<std::string> list{"n03", "n01", "n09"};
    const auto by_file = select_classes(counts, list, 1, LabelScheme::file, nullptr);
    EXPECT_EQ(by_file.classes,
              (std::vector<std::pair<std::string, std::int32_t>>{{"n03", 0}, {"n01", 1}}));
    EXPECT_EQ(by_file.dropped, (std::vector<DroppedClass>{{"n09", 0}}));
    // The devkit's classes by ID - 1: n03 has ID 2, n01 ID 7.
    const std::vector<std::string> devkit{"n11", "n03", "n13", "n14", "n15", "n16", "n01"};
    const auto by_id = select_classes(counts, list, 1, LabelScheme::ilsvrc2012_id, &devkit);
    EXPECT_EQ(by_id.classes,
              (std::vector<std::pair<std::string, std::int32_t>>{{"n03", 1}, {"n01", 6}}));
    // The table is the devkit's, rows without images included; labels index it.
    EXPECT_EQ(by_id.table, devkit);
    EXPECT_EQ(by_file.table, (std::vector<std::string>{"n03", "n01"}));
    EXPECT_THROW(select_classes(counts, std::nullopt, 1, LabelScheme::ilsvrc2012_id, &devkit),
                 UsageError);
}

}  // namespace
}  // namespace synshard::plan
