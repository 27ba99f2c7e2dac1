#include "synshard/synth/plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>

#include "synshard/util/error.hpp"

namespace synshard::synth {
namespace {

TEST(SynthSynsets, EmbedsEnoughDistinctRealWordNetNouns) {
    const auto synsets = embedded_synsets();
    EXPECT_GE(synsets.size(), 300U);
    std::set<std::string_view> wnids;
    const std::regex wnid_pattern("n[0-9]{8}");
    for (const Synset& synset : synsets) {
        EXPECT_TRUE(std::regex_match(std::string(synset.wnid), wnid_pattern)) << synset.wnid;
        EXPECT_FALSE(synset.words.empty()) << synset.wnid;
        EXPECT_TRUE(wnids.insert(synset.wnid).second) << "repeated " << synset.wnid;
    }
    // ImageNet's words.txt spelling of famous ILSVRC-2012 classes.
    const auto words_of = [&](std::string_view wnid) {
        const auto found = std::find_if(synsets.begin(), synsets.end(),
                                        [&](const Synset& s) { return s.wnid == wnid; });
        return found == synsets.end() ? std::string_view("<absent>") : found->words;
    };
    EXPECT_EQ(words_of("n01440764"), "tench, Tinca tinca");
    EXPECT_EQ(words_of("n02123045"), "tabby, tabby cat");
    EXPECT_EQ(words_of("n02791124"), "barber chair");
    EXPECT_EQ(words_of("n01751748"), "sea snake");
}

SynthOptions small_options() {
    SynthOptions options;
    options.output = "unused";
    options.num_classes = 6;
    options.per_class = 20;
    options.val_per_class = 3;
    options.seed = 11;
    return options;
}

TEST(SynthPlan, PicksTheFirstClassesOfTheTableAndSortsThemByWnid) {
    const CorpusPlan plan = plan_corpus(small_options());
    ASSERT_EQ(plan.classes.size(), 6U);
    std::set<std::string_view> expected;
    for (const auto& synset : embedded_synsets().first(6)) expected.insert(synset.wnid);
    std::set<std::string_view> got;
    for (const auto& class_plan : plan.classes) got.insert(class_plan.synset.wnid);
    EXPECT_EQ(got, expected);
    EXPECT_TRUE(std::is_sorted(
        plan.classes.begin(), plan.classes.end(),
        [](const ClassPlan& a, const ClassPlan& b) { return a.synset.wnid < b.synset.wnid; }));
    // The seed changes the images, not the classes.
    SynthOptions other = small_options();
    other.seed = 12;
    EXPECT_EQ(plan_corpus(other).classes.front().synset.wnid, plan.classes.front().synset.wnid);
}

TEST(SynthPlan, CountsAreSkewedAroundPerClassAndNamesFollowImageNet) {
    const SynthOptions options = small_options();
    const CorpusPlan plan = plan_corpus(options);
    std::set<std::size_t> counts;
    for (const auto& class_plan : plan.classes) {
        const std::size_t count = class_plan.files.size();
        EXPECT_GE(count, 10U);
        EXPECT_LE(count, 30U);
        counts.insert(count);
        const std::regex name_pattern(std::string(class_plan.synset.wnid) + "_[1-9][0-9]*\\.JPEG");
        for (const auto& file : class_plan.files) {
            EXPECT_TRUE(std::regex_match(file.name, name_pattern)) << file.name;
        }
        EXPECT_TRUE(
            std::is_sorted(class_plan.files.begin(), class_plan.files.end(),
                           [](const TrainFile& a, const TrainFile& b) { return a.name < b.name; }));
    }
    EXPECT_GT(counts.size(), 1U) << "every class got the same count";
    ASSERT_EQ(plan.val.size(), 18U);
    EXPECT_EQ(plan.val.front().name, "ILSVRC2012_val_00000001.JPEG");
    EXPECT_EQ(plan.val.back().name, "ILSVRC2012_val_00000018.JPEG");
    EXPECT_TRUE(plan.quirks.empty());
}

TEST(SynthPlan, SizesAreImageNetLikeAndBoxesLieInside) {
    SynthOptions options = small_options();
    options.large_fraction = 0.1;
    const CorpusPlan plan = plan_corpus(options);
    int landscape = 0, portrait = 0, large = 0, total = 0;
    for (const auto& class_plan : plan.classes) {
        for (const auto& file : class_plan.files) {
            const ImageSize size = file.photo.size;
            const int long_side = std::max(size.width, size.height);
            const int short_side = std::min(size.width, size.height);
            EXPECT_GE(short_side, 180) << file.name;
            EXPECT_LE(long_side, 2000) << file.name;
            EXPECT_LE(static_cast<long>(size.width) * size.height, 12'000'000L);
            (size.width >= size.height ? landscape : portrait) += 1;
            large += long_side > 500 ? 1 : 0;
            ++total;
            ASSERT_FALSE(file.photo.boxes.empty());
            for (const VocBox& box : file.photo.boxes) {
                EXPECT_GE(box.xmin, 0);
                EXPECT_GE(box.ymin, 0);
                EXPECT_LE(box.xmin, box.xmax);
                EXPECT_LE(box.ymin, box.ymax);
                EXPECT_LT(box.xmax, size.width);
                EXPECT_LT(box.ymax, size.height);
            }
        }
    }
    EXPECT_GT(landscape, portrait);
    EXPECT_GT(portrait, 0);
    EXPECT_GT(large, 0);
    EXPECT_LT(large, total / 3);

    options.image_size = ImageSize{48, 40};
    for (const auto& class_plan : plan_corpus(options).classes) {
        for (const auto& file : class_plan.files) {
            EXPECT_EQ(file.photo.size, (ImageSize{48, 40}));
        }
    }
}

TEST(SynthPlan, QuirkCopiesSortAfterTheirOriginals) {
    SynthOptions options = small_options();
    options.quirks = true;
    const CorpusPlan plan = plan_corpus(options);
    const auto within = std::find_if(plan.quirks.begin(), plan.quirks.end(), [](const auto& q) {
        return q.quirk == "duplicate-within-class";
    });
    ASSERT_NE(within, plan.quirks.end());
    EXPECT_LT(within->same_as, within->path);
    EXPECT_EQ(within->expected_reason, Reason::duplicate);
}

TEST(SynthOptions, RejectsWhatCannotBeHonoured) {
    SynthOptions options = small_options();
    EXPECT_NO_THROW(validate_options(options));
    const auto rejects = [](auto change) {
        SynthOptions changed = small_options();
        change(changed);
        EXPECT_THROW(validate_options(changed), UsageError);
    };
    rejects([](SynthOptions& o) { o.num_classes = 0; });
    rejects(
        [](SynthOptions& o) { o.num_classes = static_cast<int>(embedded_synsets().size()) + 1; });
    rejects([](SynthOptions& o) { o.per_class = 0; });
    rejects([](SynthOptions& o) { o.val_per_class = -1; });
    rejects([](SynthOptions& o) { o.quality = 101; });
    rejects([](SynthOptions& o) { o.large_fraction = 1.5; });
    rejects([](SynthOptions& o) { o.output.clear(); });

    EXPECT_EQ(parse_image_size("48x32"), (ImageSize{48, 32}));
    for (const char* bad : {"48", "48x", "x48", "0x10", "48x32x1", "4000x4000", "a48x32"}) {
        EXPECT_THROW(parse_image_size(bad), UsageError) << bad;
    }
}

}  // namespace
}  // namespace synshard::synth
