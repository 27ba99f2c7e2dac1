#include <gtest/gtest.h>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "support/text_variants.hpp"
#include "synshard/corpus/boxes.hpp"
#include "synshard/util/error.hpp"

namespace synshard::corpus {
namespace {

// The boxes of every row of a LOC CSV and what reading them counted.
std::pair<ImageBoxMap, BoxStats> load_all(const std::filesystem::path& csv) {
    BoxLoader loader({{"--boxes", csv}}, {"n01440764", "val"}, BoxOrigin::zero);
    ImageBoxMap boxes = loader.take("n01440764");
    boxes.merge(loader.take("val"));
    return {std::move(boxes), loader.stats().at(0)};
}

TEST(BoxCsv, EveryAcceptedFormGivesTheCleanBoxes) {
    testing::TempDir dir;
    const std::string clean =
        "n01440764_9,n01440764 1 2 30 40 n01440764 5 6 7 8\n"
        "ILSVRC2012_val_00000002,n01443537 1 1 5 5 n01443537 2.5 3 10 12\n"
        "n01443537_1,n01443537 1 1 5 5\n";  // a class not asked for
    const std::string spread =
        "n01440764_9,\tn01440764  1\t2   30 40\t\tn01440764 5 6 7 8\n"
        "ILSVRC2012_val_00000002 , n01443537\t1\t1\t5\t5 n01443537 2.5  3  10  12\n"
        "n01443537_1,n01443537 1 1 5 5\n";
    testing::write_bytes(dir / "clean.csv", clean);
    const auto [clean_boxes, clean_stats] = load_all(dir / "clean.csv");
    ASSERT_EQ(clean_boxes.at("val/ILSVRC2012_val_00000002").boxes.size(), 2u);
    for (const auto& variant : testing::text_variants(clean, spread, "ImageId,PredictionString")) {
        SCOPED_TRACE(variant.name);
        testing::write_bytes(dir / "variant.csv", variant.text);
        try {
            const auto [boxes, stats] = load_all(dir / "variant.csv");
            EXPECT_EQ(boxes, clean_boxes);
            EXPECT_EQ(stats, clean_stats);
        } catch (const Error& error) {
            ADD_FAILURE() << error.what();
        }
    }
}

TEST(BoxCsv, ARowThatCannotBeParsedIsAnErrorNamingFileAndLine) {
    testing::TempDir dir;
    // Rows of a class not asked for are read as strictly: which classes a rank loads
    // must not decide whether a file is accepted.
    const std::vector<std::pair<std::string, std::string>> files{
        {"ImageId,PredictionString\nn01440764_9,n01440764 1 2 3 4\nn01440764_10,n01440764 1 2 3\n",
         ":3:"},
        {"n01440764_9,n01440764 1 2 3 4\nn09999999_1,n09999999 1 2 3 4 n09999999 5 6 x 8\n", ":2:"},
        {"n01440764_9,n01440764 1 2 3 4,,\n", ":1:"},
        {"n01440764_9,n01440764 1 2 3 4\nImageId,PredictionString\n", ":2:"},
    };
    for (const auto& [text, where] : files) {
        testing::write_bytes(dir / "boxes.csv", text);
        try {
            load_all(dir / "boxes.csv");
            ADD_FAILURE() << "accepted " << text;
        } catch (const UsageError& error) {
            EXPECT_NE(std::string(error.what()).find((dir / "boxes.csv").string() + where),
                      std::string::npos)
                << error.what();
        }
    }
}

}  // namespace
}  // namespace synshard::corpus
