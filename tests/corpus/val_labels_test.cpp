#include "synshard/corpus/val_labels.hpp"

#include <gtest/gtest.h>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/util/error.hpp"

namespace synshard::corpus {
namespace {

using testing::TempDir;

TEST(ValLabels, LocCsvLabelsByImageIdWithTheFirstWnid) {
    TempDir dir;
    testing::write_bytes(dir / "LOC_val_solution.csv",
                         "ImageId,PredictionString\r\n"
                         "ILSVRC2012_val_00000001,n01751748 111 108 441 193 n01751748 1 1 5 5 \r\n"
                         "ILSVRC2012_val_00000003,garbage\r\n"
                         "ILSVRC2012_val_00000009,n01440764 1 1 5 5\r\n");
    const auto labels = ValLabels::read(dir / "LOC_val_solution.csv", nullptr);
    EXPECT_EQ(labels.format(), ValLabels::Format::loc_csv);
    EXPECT_EQ(labels.find("ILSVRC2012_val_00000001")->wnid, "n01751748");
    EXPECT_FALSE(labels.find("ILSVRC2012_val_00000002"));
    EXPECT_TRUE(labels.find("ILSVRC2012_val_00000003")->wnid.empty());
    EXPECT_FALSE(labels.find("ILSVRC2012_val_00000003")->problem.empty());
    EXPECT_EQ(labels.labels_without_image({"ILSVRC2012_val_00000001", "ILSVRC2012_val_00000003"}),
              std::vector<std::string>{"ILSVRC2012_val_00000009"});
}

TEST(ValLabels, DevkitGroundTruthResolvedThroughARealMetaMat) {
    TempDir dir;
    testing::write_meta_mat(dir / "devkit" / "data" / "meta.mat",
                            {{1, "n02119789", "kit fox, Vulpes macrotis"},
                             {2, "n02100735", "English setter"},
                             {1001, "n00001740", "entity"}});
    const Devkit devkit = read_devkit(dir / "devkit");
    ASSERT_EQ(devkit.synsets.size(), 3u);
    EXPECT_EQ(devkit.synsets[0].words, "kit fox, Vulpes macrotis");
    EXPECT_EQ(devkit.wnid_by_id.at(2), "n02100735");
    EXPECT_EQ(devkit.id_by_wnid.at("n00001740"), 1001);

    testing::write_bytes(dir / "ILSVRC2012_validation_ground_truth.txt", "2\n1\n77\n2\n");
    EXPECT_THROW(ValLabels::read(dir / "ILSVRC2012_validation_ground_truth.txt", nullptr),
                 UsageError);
    const auto labels = ValLabels::read(dir / "ILSVRC2012_validation_ground_truth.txt", &devkit);
    EXPECT_EQ(labels.format(), ValLabels::Format::devkit_ids);
    EXPECT_EQ(labels.find("ILSVRC2012_val_00000001")->wnid, "n02100735");
    EXPECT_EQ(labels.find("ILSVRC2012_val_00000002")->wnid, "n02119789");
    EXPECT_NE(labels.find("ILSVRC2012_val_00000003")->problem.find("77"), std::string::npos);
    EXPECT_FALSE(labels.find("ILSVRC2012_val_00000005"));
    EXPECT_FALSE(labels.find("no_number_here"));
    EXPECT_EQ(labels.labels_without_image({"ILSVRC2012_val_00000001", "ILSVRC2012_val_00000002",
                                           "ILSVRC2012_val_00000003"}),
              std::vector<std::string>{"line 4"});
}

TEST(ValLabels, OneWnidPerLine) {
    TempDir dir;
    testing::write_bytes(dir / "labels.txt", "n01440764\nn01443537 goldfish\nnot-a-wnid\n\n");
    const auto labels = ValLabels::read(dir / "labels.txt", nullptr);
    EXPECT_EQ(labels.format(), ValLabels::Format::wnid_lines);
    EXPECT_EQ(labels.find("val_2")->wnid, "n01443537");
    EXPECT_TRUE(labels.find("val_3")->wnid.empty());
}

TEST(ValLabels, UnknownFormatsAndBrokenDevkitsAreErrors) {
    TempDir dir;
    testing::write_bytes(dir / "junk.txt", "hello world\n");
    EXPECT_THROW(ValLabels::read(dir / "junk.txt", nullptr), UsageError);
    testing::write_bytes(dir / "empty.txt", "\n\n");
    EXPECT_THROW(ValLabels::read(dir / "empty.txt", nullptr), UsageError);
    EXPECT_THROW(read_devkit(dir / "nowhere"), UsageError);
    testing::write_bytes(dir / "bad" / "data" / "meta.mat", "not a mat file");
    EXPECT_THROW(read_devkit(dir / "bad"), Error);
}

}  // namespace
}  // namespace synshard::corpus
