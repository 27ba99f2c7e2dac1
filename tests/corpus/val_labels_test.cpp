#include "synshard/corpus/val_labels.hpp"

#include <gtest/gtest.h>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "support/text_variants.hpp"
#include "synshard/util/error.hpp"

namespace synshard::corpus {
namespace {

using testing::TempDir;

TEST(ValLabels, LocCsvLabelsByImageIdWithTheFirstWnid) {
    TempDir dir;
    testing::write_bytes(dir / "LOC_val_solution.csv",
                         "ImageId,PredictionString\r\n"
                         "ILSVRC2012_val_00000001,n01751748 111 108 441 193 n01751748 1 1 5 5 \r\n"
                         "ILSVRC2012_val_00000003,n01443537 1 1 5 5\r\n"
                         "ILSVRC2012_val_00000009,n01440764 1 1 5 5\r\n");
    const auto labels = ValLabels::read(dir / "LOC_val_solution.csv", nullptr);
    EXPECT_EQ(labels.format(), ValLabels::Format::loc_csv);
    EXPECT_EQ(labels.find("ILSVRC2012_val_00000001")->wnid, "n01751748");
    EXPECT_FALSE(labels.find("ILSVRC2012_val_00000002"));
    EXPECT_EQ(labels.find("ILSVRC2012_val_00000003")->wnid, "n01443537");
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
    testing::write_bytes(dir / "labels.txt", "n01440764\nn01443537 goldfish\n\n");
    const auto labels = ValLabels::read(dir / "labels.txt", nullptr);
    EXPECT_EQ(labels.format(), ValLabels::Format::wnid_lines);
    EXPECT_EQ(labels.find("val_2")->wnid, "n01443537");
    EXPECT_FALSE(labels.find("val_3"));
}

// What a label file says about the images 1..4, as comparable text (a problem names the
// file's line, which a header row moves).
std::string labels_of_four_images(const ValLabels& labels) {
    std::string text;
    for (int i = 1; i <= 4; ++i) {
        const auto label = labels.find("ILSVRC2012_val_0000000" + std::to_string(i));
        text += !label ? "none\n" : label->problem.empty() ? label->wnid + "\n" : "problem\n";
    }
    return text + std::to_string(labels.labels_without_image({"ILSVRC2012_val_00000001"}).size()) +
           " without image\n";
}

TEST(ValLabels, EveryAcceptedFormOfEachFormatGivesTheCleanLabels) {
    TempDir dir;
    testing::write_meta_mat(
        dir / "devkit" / "data" / "meta.mat",
        {{1, "n02119789", "kit fox, Vulpes macrotis"}, {2, "n02100735", "English setter"}});
    const Devkit devkit = read_devkit(dir / "devkit");
    struct Format {
        std::string clean;
        std::string spread;
        std::string header;
    };
    const std::vector<Format> formats{
        {"ILSVRC2012_val_00000001,n01751748 111 108 441 193 n01751748 1 1 5 5\n"
         "ILSVRC2012_val_00000003,n01440764 1 1 5 5\n",
         "ILSVRC2012_val_00000001,\tn01751748  111\t108   441 193\t\tn01751748 1 1 5 5\n"
         "ILSVRC2012_val_00000003 ,  n01440764\t1\t1\t5\t5\n",
         "ImageId,PredictionString"},
        {"2\n1\n3\n", "2\n1\n3\n", "label"},
        {"n01440764\nn01443537 goldfish\nn01484850 great white shark\n",
         "n01440764\nn01443537\t\tgoldfish\nn01484850   great white shark\n", "wnid words"},
    };
    for (const auto& format : formats) {
        testing::write_bytes(dir / "clean.txt", format.clean);
        const auto clean = ValLabels::read(dir / "clean.txt", &devkit);
        for (const auto& variant :
             testing::text_variants(format.clean, format.spread, format.header)) {
            SCOPED_TRACE(format.clean + " as " + variant.name);
            testing::write_bytes(dir / "variant.txt", variant.text);
            try {
                const auto labels = ValLabels::read(dir / "variant.txt", &devkit);
                EXPECT_EQ(labels.format(), clean.format());
                EXPECT_EQ(labels_of_four_images(labels), labels_of_four_images(clean));
            } catch (const Error& error) {
                ADD_FAILURE() << error.what();
            }
        }
    }
}

TEST(ValLabels, ARowThatCannotBeParsedIsAnErrorNamingFileAndLine) {
    TempDir dir;
    testing::write_meta_mat(dir / "devkit" / "data" / "meta.mat", {{1, "n02119789", "kit fox"}});
    const Devkit devkit = read_devkit(dir / "devkit");
    const std::vector<std::pair<std::string, std::string>> files{
        {"ImageId,PredictionString\nILSVRC2012_val_00000001,n01751748 1 1 5 5\n"
         "ILSVRC2012_val_00000003,garbage\n",
         ":3:"},
        {"ILSVRC2012_val_00000001,n01751748 1 1 5 5\nILSVRC2012_val_00000002,n01751748 1 1 5\n",
         ":2:"},
        {"ILSVRC2012_val_00000001,n01751748 1 1 5 5,,\n", ":1:"},
        {std::string(testing::kUtf8Bom) + "1\r\n1\r\nx7\r\n", ":3:"},
        {"1\n\n1\n", ":2:"},  // a blank line would shift every later image's label
        {"n01440764\nnot-a-wnid\n", ":2:"},
    };
    for (const auto& [text, where] : files) {
        testing::write_bytes(dir / "labels.txt", text);
        try {
            ValLabels::read(dir / "labels.txt", &devkit);
            ADD_FAILURE() << "accepted " << text;
        } catch (const UsageError& error) {
            EXPECT_NE(std::string(error.what()).find((dir / "labels.txt").string() + where),
                      std::string::npos)
                << error.what();
        }
    }
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
