#include "synshard/corpus/boxes.hpp"

#include <gtest/gtest.h>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"

namespace synshard::corpus {
namespace {

using testing::voc_xml;

TEST(Boxes, VocBoxBecomesContinuousCoordinates) {
    BoxStats stats;
    EXPECT_EQ(voc_box(111, 108, 441, 193, 500, 375, stats), (image::Box{110, 107, 441, 193}));
    EXPECT_EQ(stats.boxes, 1u);
    EXPECT_EQ(stats.fixed, 0u);
}

TEST(Boxes, ClampsOutsideBoxesAndDropsEmptyOrInvertedOnes) {
    BoxStats stats;
    EXPECT_EQ(voc_box(-5, 0, 600, 400, 500, 375, stats), (image::Box{0, 0, 500, 375}));
    EXPECT_EQ(stats.fixed, 1u);
    EXPECT_FALSE(voc_box(300, 10, 200, 50, 500, 375, stats));  // inverted
    EXPECT_FALSE(voc_box(10, 10, 9, 50, 500, 375, stats));     // empty (xmin-1 == xmax)
    EXPECT_FALSE(voc_box(600, 10, 700, 50, 500, 375, stats));  // entirely outside
    EXPECT_EQ(stats.dropped, 3u);
    EXPECT_EQ(voc_box(10.5, 20.25, 30.75, 40, 0, 0, stats), (image::Box{9.5f, 19.25f, 30.75f, 40}));
}

TEST(Boxes, PrettyAndOneLineXmlGiveTheSameBoxes) {
    const std::vector<testing::VocObject> objects{{"n01751748", "111", "108", "441", "193"},
                                                  {"n01751748", "1.5", "2", "600", "50"}};
    BoxStats pretty_stats;
    BoxStats line_stats;
    const auto pretty =
        parse_voc_xml(voc_xml("n01751748_1", 500, 375, objects), "n01751748_1", pretty_stats);
    const auto line = parse_voc_xml(voc_xml("n01751748_1.JPEG", 500, 375, objects, true),
                                    "n01751748_1", line_stats);
    ASSERT_TRUE(pretty && line);
    EXPECT_EQ(*pretty, *line);
    ASSERT_EQ(pretty->size(), 2u);
    EXPECT_EQ((*pretty)[1].box, (image::Box{0.5f, 1, 500, 50}));
    EXPECT_EQ(pretty_stats, line_stats);
    EXPECT_EQ(pretty_stats.fixed, 1u);
    EXPECT_EQ(pretty_stats.placeholders, 0u);
}

TEST(Boxes, ClassNamesPlaceholdersAndGarbageAreCounted) {
    BoxStats stats;
    const auto parsed =
        parse_voc_xml(voc_xml("%s", 100, 100,
                              {{"dog", "1", "1", "10", "10"}, {"n02084071", "a", "1", "10", "10"}}),
                      "n02084071_7", stats);
    ASSERT_TRUE(parsed);
    ASSERT_EQ(parsed->size(), 1u);
    EXPECT_EQ((*parsed)[0].name, "dog");
    EXPECT_EQ(stats.class_names, 1u);
    EXPECT_EQ(stats.placeholders, 1u);
    EXPECT_EQ(stats.dropped, 1u);
    EXPECT_FALSE(parse_voc_xml("<annotation><object>", "x", stats));
    EXPECT_FALSE(parse_voc_xml("not xml", "x", stats));
    EXPECT_FALSE(parse_voc_xml("<other/>", "x", stats));
    EXPECT_EQ(stats.unparseable, 3u);
}

TEST(Boxes, LoadsFoldersTarsAndCsvByPrefix) {
    testing::TempDir dir;
    const auto annotations = dir / "Annotation";
    testing::write_bytes(annotations / "n01440764" / "n01440764_1.xml",
                         voc_xml("n01440764_1", 50, 40, {{"n01440764", "1", "1", "20", "20"}}));
    testing::write_bytes(annotations / "n01440764" / "n01440764_2.xml", "<annotation><broken");
    testing::write_bytes(annotations / "n01443537" / "n01443537_1.xml",
                         voc_xml("n01443537_1", 50, 40, {{"n01443537", "1", "1", "20", "20"}}));
    testing::write_bytes(
        annotations / "ILSVRC2012_val_00000001.xml",
        voc_xml("ILSVRC2012_val_00000001", 50, 40, {{"n01440764", "2", "2", "9", "9"}}));
    testing::write_tar(
        dir / "boxtars" / "n01484850.tar.gz",
        {{"Annotation/n01484850/n01484850_3.xml",
          voc_xml("n01484850_3", 50, 40, {{"n01484850", "1", "1", "60", "20"}}, true)}});
    testing::write_bytes(
        dir / "LOC_train_solution.csv",
        "ImageId,PredictionString\n"
        "n01440764_1,n01440764 5 5 10 10 \n"  // also in the folder: the folder wins
        "n01440764_9,n01440764 1 2 3 4 n01440764 5 6 7 8\n"
        "n01440764_10,n01440764 1 2 3\n"
        "ILSVRC2012_val_00000002,n01443537 1 1 5 5\n");

    BoxStats stats;
    BoxLoader loader({annotations, dir / "boxtars", dir / "LOC_train_solution.csv"},
                     {"n01440764", "n01484850", "val"}, stats);
    EXPECT_EQ(stats.files, 4u);  // the CSV rows under those prefixes, read at once
    BoxMap boxes;
    for (const char* prefix : {"n01440764", "n01484850", "val"}) boxes.merge(loader.take(prefix));
    EXPECT_EQ(stats.files, 8u);  // and the XML files, read as their prefix is taken
    EXPECT_EQ(boxes.at("n01440764/n01440764_1").size(), 1u);
    EXPECT_EQ(boxes.at("n01440764/n01440764_1")[0].box, (image::Box{0, 0, 20, 20}));
    EXPECT_EQ(boxes.count("n01443537/n01443537_1"), 0u);  // not asked for
    EXPECT_EQ(boxes.at("n01484850/n01484850_3")[0].box, (image::Box{0, 0, 50, 20}));
    EXPECT_EQ(boxes.at("val/ILSVRC2012_val_00000001")[0].name, "n01440764");
    EXPECT_EQ(boxes.at("val/ILSVRC2012_val_00000002")[0].box, (image::Box{0, 0, 5, 5}));
    EXPECT_EQ(boxes.at("n01440764/n01440764_9").size(), 2u);
    EXPECT_EQ(stats.unparseable, 2u);  // the broken XML and the 4-number row
    // A prefix's CSV rows are handed over once; its folders are read again.
    const auto again = loader.take("n01440764");
    EXPECT_EQ(again.count("n01440764/n01440764_1"), 1u);
    EXPECT_EQ(again.count("n01440764/n01440764_9"), 0u);
    EXPECT_EQ(box_key("n01440764/n01440764_1.JPEG"), "n01440764/n01440764_1");
    EXPECT_EQ(box_key("val/ILSVRC2012_val_00000001.JPEG"), "val/ILSVRC2012_val_00000001");
}

}  // namespace
}  // namespace synshard::corpus
