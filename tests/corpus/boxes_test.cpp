#include "synshard/corpus/boxes.hpp"

#include <gtest/gtest.h>

#include <map>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/util/error.hpp"

namespace synshard::corpus {
namespace {

using testing::voc_xml;

TEST(Boxes, APixelIndexBoxBecomesContinuousCoordinates) {
    BoxStats stats;
    EXPECT_EQ(continuous_box(111, 108, 441, 193, 500, 375, BoxOrigin::zero, stats),
              (image::Box{111, 108, 442, 194}));
    EXPECT_EQ(continuous_box(111, 108, 441, 193, 500, 375, BoxOrigin::one, stats),
              (image::Box{110, 107, 441, 193}));
    EXPECT_EQ(stats.boxes, 2u);
    EXPECT_EQ(stats.fixed, 0u);
}

TEST(Boxes, ClampsOutsideBoxesAndDropsEmptyOrInvertedOnes) {
    BoxStats stats;
    const auto box = [&](double xmin, double ymin, double xmax, double ymax, int width,
                         int height) {
        return continuous_box(xmin, ymin, xmax, ymax, width, height, BoxOrigin::zero, stats);
    };
    EXPECT_EQ(box(-5, 0, 600, 400, 500, 375), (image::Box{0, 0, 500, 375}));
    EXPECT_EQ(stats.fixed, 1u);
    EXPECT_EQ(box(0, 0, 499, 374, 500, 375), (image::Box{0, 0, 500, 375}));  // the last pixel
    EXPECT_EQ(stats.fixed, 1u);
    EXPECT_FALSE(box(300, 10, 200, 50, 500, 375));  // inverted
    EXPECT_FALSE(box(10, 10, 8.5, 50, 500, 375));   // empty (xmax + 1 < xmin)
    EXPECT_FALSE(box(600, 10, 700, 50, 500, 375));  // entirely outside
    EXPECT_EQ(stats.dropped, 3u);
    EXPECT_EQ(box(10.5, 20.25, 30.75, 40, 0, 0), (image::Box{10.5f, 20.25f, 31.75f, 41}));
}

// ImageNet numbers pixels from 0 and includes the maxima: ILSVRC2012_val_00000020's box
// (0 1 483 374) in its 484x375 image covers every column, from row 1 to the last.
TEST(Boxes, ImageNetBoxesAreZeroBasedWithInclusiveMaxima) {
    BoxStats stats;
    const auto parsed = parse_voc_xml(
        voc_xml("ILSVRC2012_val_00000020", 484, 375, {{"n01440764", "0", "1", "483", "374"}}),
        "ILSVRC2012_val_00000020", stats);
    ASSERT_TRUE(parsed);
    ASSERT_EQ(parsed->size(), 1u);
    EXPECT_EQ((*parsed)[0].box, (image::Box{0, 1, 484, 375}));
    EXPECT_EQ(stats.boxes, 1u);
    EXPECT_EQ(stats.fixed, 0u);  // inside: nothing was clamped
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
    EXPECT_EQ((*pretty)[1].box, (image::Box{1.5f, 2, 500, 51}));
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
        "ILSVRC2012_val_00000002,n01443537 1 1 5 5\n");

    BoxLoader loader({{"--boxes", annotations},
                      {"--boxes", dir / "boxtars"},
                      {"--boxes", dir / "LOC_train_solution.csv"}},
                     {"n01440764", "n01484850", "val"}, BoxOrigin::zero);
    const auto& stats = loader.stats();
    EXPECT_EQ(stats[2].files, 3u);  // the CSV rows under those prefixes, read at once
    EXPECT_EQ(stats[0].files, 0u);
    ImageBoxMap boxes;
    for (const char* prefix : {"n01440764", "n01484850", "val"}) boxes.merge(loader.take(prefix));
    // and the XML files, read as their prefix is taken
    EXPECT_EQ(stats[0].files + stats[1].files, 4u);
    EXPECT_EQ(boxes.at("n01440764/n01440764_1"), (ImageBoxes{0, {{{1, 1, 21, 21}, "n01440764"}}}));
    EXPECT_EQ(boxes.count("n01443537/n01443537_1"), 0u);  // not asked for
    EXPECT_EQ(boxes.at("n01484850/n01484850_3"), (ImageBoxes{1, {{{1, 1, 50, 21}, "n01484850"}}}));
    EXPECT_EQ(stats[1].fixed, 1u);
    EXPECT_EQ(boxes.at("val/ILSVRC2012_val_00000001").boxes[0].name, "n01440764");
    EXPECT_EQ(boxes.at("val/ILSVRC2012_val_00000002"),
              (ImageBoxes{2, {{{1, 1, 6, 6}, "n01443537"}}}));
    EXPECT_EQ(boxes.at("n01440764/n01440764_9").boxes.size(), 2u);
    EXPECT_EQ(stats[0].unparseable, 1u);  // the broken XML
    // A prefix's CSV rows are handed over once; its folders are read again.
    const auto again = loader.take("n01440764");
    EXPECT_EQ(again.count("n01440764/n01440764_1"), 1u);
    EXPECT_EQ(again.count("n01440764/n01440764_9"), 0u);
    EXPECT_EQ(box_key("n01440764/n01440764_1.JPEG"), "n01440764/n01440764_1");
    EXPECT_EQ(box_key("val/ILSVRC2012_val_00000001.JPEG"), "val/ILSVRC2012_val_00000001");
}

// The official box downloads (ILSVRC2012_bbox_train_v2.tar.gz: "nXXXXXXXX/<stem>.xml";
// ILSVRC2012_bbox_val_v3.tgz: "val/<stem>.xml") are read once, when the loader is made,
// keeping only the asked prefixes' boxes; what a prefix read is recorded per prefix, so
// that it does not depend on which other prefixes a rank asks for.
TEST(Boxes, BoxArchivesAreStreamedOnceKeepingOnlyTheAskedPrefixes) {
    testing::TempDir dir;
    const auto train_xml = [](const std::string& stem, const std::string& xmax) {
        return voc_xml(stem, 50, 40, {{stem.substr(0, 9), "1", "1", xmax, "20"}});
    };
    const auto write_train = [&](const std::string& changed_xmax) {
        testing::write_tar(dir / "ILSVRC2012_bbox_train_v2.tar.gz",
                           {{"n01440764/n01440764_1.xml", train_xml("n01440764_1", "20")},
                            {"n01440764/n01440764_2.xml", "<annotation><broken"},
                            {"n01443537/n01443537_1.xml", train_xml("n01443537_1", changed_xmax)},
                            {"n01484850_3.xml", train_xml("n01484850_3", "9")},
                            {"n01440764/notes.txt", "not an annotation"}});
    };
    write_train("20");
    testing::write_tar(
        dir / "ILSVRC2012_bbox_val_v3.tgz",
        {{"val/ILSVRC2012_val_00000001.xml",
          voc_xml("ILSVRC2012_val_00000001", 50, 40, {{"n01440764", "2", "2", "9", "9"}})}});
    const std::vector<BoxSource> sources{{"--boxes", dir / "ILSVRC2012_bbox_train_v2.tar.gz"},
                                         {"--boxes", dir / "ILSVRC2012_bbox_val_v3.tgz"}};
    const std::set<std::string> asked{"n01440764", "n01484850", "val"};

    BoxLoader loader(sources, asked, BoxOrigin::zero);
    // Read at once: the asked prefixes' XML files (the broken one counted), nothing else.
    EXPECT_EQ(loader.stats()[0].files, 3u);
    EXPECT_EQ(loader.stats()[0].unparseable, 1u);
    EXPECT_EQ(loader.stats()[1].files, 1u);
    ImageBoxMap boxes;
    for (const auto& prefix : asked) boxes.merge(loader.take(prefix));
    EXPECT_EQ(boxes.at("n01440764/n01440764_1"), (ImageBoxes{0, {{{1, 1, 21, 21}, "n01440764"}}}));
    EXPECT_EQ(boxes.at("n01484850/n01484850_3"), (ImageBoxes{0, {{{1, 1, 10, 21}, "n01484850"}}}));
    EXPECT_EQ(boxes.at("val/ILSVRC2012_val_00000001"),
              (ImageBoxes{1, {{{2, 2, 10, 10}, "n01440764"}}}));
    EXPECT_EQ(boxes.size(), 3u);
    EXPECT_TRUE(loader.take("n01443537").empty());  // not asked for: not kept

    const auto digests = [&](const BoxLoader& of) {
        std::map<std::pair<std::size_t, std::string>, std::string> by_prefix;
        for (const auto& read : of.read()) by_prefix[{read.source, read.prefix}] = read.content;
        return by_prefix;
    };
    const auto before = digests(loader);
    ASSERT_EQ(before.size(), 3u);  // one record per asked prefix that a source annotates
    // Another rank asking for fewer prefixes records the same for those it asks.
    BoxLoader fewer(sources, {"n01440764"}, BoxOrigin::zero);
    fewer.take("n01440764");
    EXPECT_EQ(digests(fewer).at({0, "n01440764"}), before.at({0, "n01440764"}));
    // An annotation of a prefix nobody asked for changing changes nothing asked for.
    write_train("30");
    BoxLoader rewritten(sources, asked, BoxOrigin::zero);
    for (const auto& prefix : asked) rewritten.take(prefix);
    EXPECT_EQ(digests(rewritten), before);
}

// A box archive that breaks off is an error naming it, not boxes silently missing.
TEST(Boxes, ATruncatedBoxArchiveIsAnErrorNamingIt) {
    testing::TempDir dir;
    std::vector<testing::TarMember> members;
    for (int i = 0; i < 50; ++i) {
        const std::string stem = "n01440764_" + std::to_string(i);
        members.push_back({"n01440764/" + stem + ".xml",
                           voc_xml(stem, 50, 40, {{"n01440764", "1", "1", "20", "20"}}) +
                               std::string(2000, ' ')});
    }
    const auto archive = dir / "ILSVRC2012_bbox_train_v2.tar";
    testing::write_tar(archive, members);
    std::filesystem::resize_file(archive, std::filesystem::file_size(archive) / 2);
    try {
        BoxLoader loader({{"--boxes", archive}}, {"n01440764"}, BoxOrigin::zero);
        FAIL() << "a truncated box archive was accepted";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("--boxes " + archive.string()), std::string::npos)
            << error.what();
    }
}

// The LOC csv that labels val gives the val boxes after every --boxes source, and only
// theirs; a file named twice is one source.
TEST(Boxes, ValLabelsComeLastGiveOnlyValBoxesAndAFileNamedTwiceIsOneSource) {
    testing::TempDir dir;
    testing::write_bytes(dir / "LOC_val_solution.csv",
                         "ImageId,PredictionString\n"
                         "ILSVRC2012_val_00000001,n01440764 0 0 9 9 \n"
                         "ILSVRC2012_val_00000002,n01440764 0 0 4 4 \n"
                         "n01440764_1,n01440764 0 0 4 4 \n");
    testing::write_bytes(
        dir / "Annotation" / "ILSVRC2012_val_00000001.xml",
        voc_xml("ILSVRC2012_val_00000001", 50, 40, {{"n01440764", "1", "1", "2", "2"}}));
    const auto sources = box_sources({dir / "Annotation", dir / "Annotation/../Annotation"},
                                     dir / "LOC_val_solution.csv");
    ASSERT_EQ(sources,
              (std::vector<BoxSource>{{"--boxes", dir / "Annotation", false},
                                      {"--val-labels", dir / "LOC_val_solution.csv", true}}));
    EXPECT_EQ(box_sources({dir / "LOC_val_solution.csv"}, dir / "." / "LOC_val_solution.csv"),
              (std::vector<BoxSource>{{"--boxes", dir / "LOC_val_solution.csv", false}}));

    BoxLoader loader(sources, {"n01440764", "val"}, BoxOrigin::zero);
    EXPECT_TRUE(loader.take("n01440764").empty());  // a train row of the val labels
    const auto val = loader.take("val");
    EXPECT_EQ(val.at("val/ILSVRC2012_val_00000001"),
              (ImageBoxes{0, {{{1, 1, 3, 3}, "n01440764"}}}));
    EXPECT_EQ(val.at("val/ILSVRC2012_val_00000002"),
              (ImageBoxes{1, {{{0, 0, 5, 5}, "n01440764"}}}));
    EXPECT_EQ(loader.stats()[1].files, 2u);
}

}  // namespace
}  // namespace synshard::corpus
