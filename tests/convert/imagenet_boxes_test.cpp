// ImageNet's boxes as the real files hold them (issue 17, item 1): 0-based pixel indices
// with inclusive maxima, val boxes from the LOC csv that labels val, and which source gave
// them. Real JPEGs, the real binary, real shards.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/h5/index_writer.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/reader/shard_reader.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::testing {
namespace {

namespace fs = std::filesystem;

std::string jpeg_bytes(int width, int height) {
    cv::Mat image(height, width, CV_8UC3);
    cv::randu(image, 0, 255);
    std::vector<std::uint8_t> bytes;
    cv::imencode(".jpg", image, bytes);
    return std::string(bytes.begin(), bytes.end());
}

// ILSVRC2012_val_00000020 as ImageNet has it: a 484x375 val image (a tench here) whose one
// box runs from its first pixel column to its last, from row 1 to its last row.
class ImageNetBoxes : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const char* name : {"n01440764_1", "n01440764_2"})
            write_bytes(train() / "n01440764" / (std::string(name) + ".JPEG"), jpeg_bytes(64, 48));
        write_bytes(val() / "ILSVRC2012_val_00000020.JPEG", jpeg_bytes(484, 375));
        write_loc_csv(loc_csv(), "0 1 483 374");
    }

    fs::path train() const { return dir_ / "train"; }
    fs::path val() const { return dir_ / "val"; }
    fs::path loc_csv() const { return dir_ / "LOC_val_solution.csv"; }
    fs::path out() const { return dir_ / "out"; }

    static void write_loc_csv(const fs::path& path, const std::string& box) {
        write_bytes(path,
                    "ImageId,PredictionString\nILSVRC2012_val_00000020,n01440764 " + box + " \n");
    }

    // `command` of the corpus (convert: resized to a shorter side of 256), with `extra`.
    std::vector<std::string> args(const std::string& command,
                                  const std::vector<std::string>& extra) const {
        std::vector<std::string> all{command,           "--input",      train().string(),
                                     "--val-input",     val().string(), "--val-labels",
                                     loc_csv().string()};
        if (command == "convert")
            all.insert(all.end(), {"--resize", "shorter:256", "--output", out().string()});
        all.insert(all.end(), extra.begin(), extra.end());
        return all;
    }

    ProcessResult convert(const std::vector<std::string>& extra) const {
        return run_synshard(args("convert", extra));
    }

    fs::path val_shard() const { return out() / "val" / "val-00000-of-00001.h5"; }

    std::vector<image::Box> stored_val_boxes() const {
        const reader::ShardReader shard(val_shard());
        EXPECT_EQ(shard.num_samples(), 1u);
        const h5::SampleRow row = shard.read_metadata(0);
        EXPECT_EQ(row.width, 330);
        EXPECT_EQ(row.height, 256);
        return row.boxes;
    }

    // The example: (0 1 483 374) in 484x375 is (0, 1, 484, 375), stored at 330x256
    // as [0, 0.68, 330, 256].
    void expect_the_whole_width_from_row_one(const std::vector<image::Box>& boxes) const {
        ASSERT_EQ(boxes.size(), 1u);
        EXPECT_EQ(boxes[0].xmin, 0.0F);
        EXPECT_NEAR(boxes[0].ymin, 256.0 / 375.0, 1e-5);
        EXPECT_EQ(boxes[0].xmax, 330.0F);
        EXPECT_EQ(boxes[0].ymax, 256.0F);
    }

    TempDir dir_;
};

TEST_F(ImageNetBoxes, ALocBoxFromTheFirstToTheLastPixelColumnSpansTheStoredImage) {
    const auto result = convert({"--boxes", loc_csv().string()});
    ASSERT_EQ(result.exit_code, 0) << result.output;
    expect_the_whole_width_from_row_one(stored_val_boxes());
}

TEST_F(ImageNetBoxes, ValLabelsAloneGiveTheValBoxes) {
    const auto result = convert({});
    ASSERT_EQ(result.exit_code, 0) << result.output;
    expect_the_whole_width_from_row_one(stored_val_boxes());
}

// PASCAL VOC's own files number pixels from 1: the same box is (1 2 484 375) there.
TEST_F(ImageNetBoxes, BoxOriginOneReadsPascalVocFiles) {
    const fs::path voc = dir_ / "voc.csv";
    write_loc_csv(voc, "1 2 484 375");
    const auto result = convert({"--boxes", voc.string(), "--box-origin", "1"});
    ASSERT_EQ(result.exit_code, 0) << result.output;
    expect_the_whole_width_from_row_one(stored_val_boxes());
    EXPECT_EQ(manifest::read_document(out() / manifest::kManifestFileName)["box_origin"], 1);
}

// A box that really lies outside the image is clamped and counted; one ending on the last
// pixel is not (the val XML gives the image's size).
TEST_F(ImageNetBoxes, OnlyBoxesReallyOutsideTheImageCountAsFixed) {
    const auto fixed = [&](const std::string& xmax, const std::string& ymax) {
        const fs::path annotation = dir_ / ("Annotation-" + xmax);
        write_bytes(
            annotation / "ILSVRC2012_val_00000020.xml",
            voc_xml("ILSVRC2012_val_00000020", 484, 375, {{"n01440764", "0", "1", xmax, ymax}}));
        const fs::path json = dir_ / ("plan-" + xmax + ".json");
        const auto plan =
            run_synshard(args("plan", {"--boxes", annotation.string(), "--json", json.string()}));
        EXPECT_EQ(plan.exit_code, 0) << plan.output;
        const auto bytes = read_file(json);
        return nlohmann::json::parse(bytes.begin(), bytes.end())["boxes"]["fixed"];
    };
    EXPECT_EQ(fixed("483", "374"), 0);
    EXPECT_EQ(fixed("484", "375"), 1);
}

// Version 3 in every output file, and the box origin in the manifest, in its own section.
TEST_F(ImageNetBoxes, OutputsAreFormatVersionThreeAndTheManifestSaysTheBoxOrigin) {
    const auto result = convert({});
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const auto document = manifest::read_document(out() / manifest::kManifestFileName);
    EXPECT_EQ(document["format_version"], 3);
    EXPECT_EQ(document["box_origin"], 0);
    EXPECT_TRUE(document["digests"].contains("box_origin"));
    EXPECT_EQ(reader::ShardReader(val_shard()).attributes().format_version, 3);
    const hid_t index = H5Fopen((out() / h5::kIndexFileName).c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(index, 0);
    const hid_t attribute = H5Aopen(index, h5::attribute::kFormatVersion, H5P_DEFAULT);
    std::int64_t version = 0;
    EXPECT_GE(H5Aread(attribute, H5T_NATIVE_INT64, &version), 0);
    H5Aclose(attribute);
    H5Fclose(index);
    EXPECT_EQ(version, 3);
    const auto verified = run_synshard({"verify", out().string(), "--full"});
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

// The official box downloads, given as they are (ILSVRC2012_bbox_train_v2.tar.gz,
// ILSVRC2012_bbox_val_v3.tgz), store the same boxes as the same XML files extracted.
TEST_F(ImageNetBoxes, TheOfficialBoxArchivesGiveTheBoxesOfTheirExtractedFiles) {
    const fs::path annotation = dir_ / "Annotation";
    const std::string train_xml =
        voc_xml("n01440764_1", 64, 48, {{"n01440764", "3", "4", "40", "30"}});
    const std::string val_xml =
        voc_xml("ILSVRC2012_val_00000020", 484, 375, {{"n01440764", "5", "6", "100", "200"}});
    write_bytes(annotation / "n01440764" / "n01440764_1.xml", train_xml);
    write_bytes(annotation / "val" / "ILSVRC2012_val_00000020.xml", val_xml);
    write_tar(dir_ / "ILSVRC2012_bbox_train_v2.tar.gz", {{"n01440764/n01440764_1.xml", train_xml}});
    write_tar(dir_ / "ILSVRC2012_bbox_val_v3.tgz", {{"val/ILSVRC2012_val_00000020.xml", val_xml}});
    const auto stored = [&](const std::vector<std::string>& boxes) {
        fs::remove_all(out());
        const auto result = convert(boxes);
        EXPECT_EQ(result.exit_code, 0) << result.output;
        std::vector<image::Box> all;
        for (const auto& shard : {out() / "train" / "train-00000-of-00001.h5", val_shard()}) {
            const reader::ShardReader reader(shard);
            for (std::uint64_t row = 0; row < reader.num_samples(); ++row) {
                const auto boxes_of_row = reader.read_metadata(row).boxes;
                all.insert(all.end(), boxes_of_row.begin(), boxes_of_row.end());
            }
        }
        return all;
    };
    // The val labels' own box (0 1 483 374) loses to the --boxes sources.
    const auto from_folder = stored({"--boxes", annotation.string()});
    ASSERT_EQ(from_folder.size(), 2u);
    EXPECT_NE(from_folder[1], stored({})[0]);
    EXPECT_EQ(stored({"--boxes", (dir_ / "ILSVRC2012_bbox_train_v2.tar.gz").string(), "--boxes",
                      (dir_ / "ILSVRC2012_bbox_val_v3.tgz").string()}),
              from_folder);
}

// The first --boxes source wins an image, then --val-labels; a file named twice is read
// once; plan says how many boxes each source gave, and plan and convert warn of a --boxes
// source that gave none, with its count.
TEST_F(ImageNetBoxes, PlanSaysWhichSourceGaveHowManyBoxesAndWarnsOfOneThatGaveNone) {
    const fs::path other = dir_ / "other.csv";
    write_loc_csv(other, "10 10 99 99");
    const fs::path unrelated = dir_ / "Annotation";
    write_bytes(unrelated / "n01443537" / "n01443537_1.xml",
                voc_xml("n01443537_1", 50, 40, {{"n01443537", "0", "0", "9", "9"}}));
    const std::string same_csv_again = (dir_ / "." / "LOC_val_solution.csv").string();
    const std::vector<std::string> boxes{"--boxes",          other.string(), "--boxes",
                                         unrelated.string(), "--boxes",      same_csv_again};
    auto plan_args = args("plan", boxes);
    plan_args.insert(plan_args.end(), {"--json", (dir_ / "plan.json").string()});
    const auto plan = run_synshard(plan_args);
    ASSERT_EQ(plan.exit_code, 0) << plan.output;
    const std::string canonical_other = canonical_path(other).string();
    for (const std::string& line :
         {"--boxes " + canonical_other + ": 1 box given of 1 read",
          "--boxes " + canonical_path(loc_csv()).string() + ": 0 boxes given of 1 read",
          "warning: --boxes " + canonical_path(unrelated).string() +
              " gave no box to any image of the corpus (0 boxes read"}) {
        EXPECT_NE(plan.output.find(line), std::string::npos) << line << " in\n" << plan.output;
    }
    // Named twice (as --boxes and --val-labels): one source, read once.
    EXPECT_EQ(plan.output.find("--val-labels " + canonical_path(loc_csv()).string()),
              std::string::npos)
        << plan.output;
    const auto bytes = read_file(dir_ / "plan.json");
    const auto json = nlohmann::json::parse(bytes.begin(), bytes.end());
    EXPECT_EQ(json["boxes"]["files"], 2) << json["boxes"].dump();  // one row of each csv
    EXPECT_EQ(json["boxes"]["sources"].size(), 3u) << json["boxes"].dump();

    const auto converted = convert(boxes);
    ASSERT_EQ(converted.exit_code, 0) << converted.output;
    EXPECT_NE(converted.output.find("--boxes " + canonical_path(unrelated).string() +
                                    " gave no box to any image of the corpus"),
              std::string::npos)
        << converted.output;
    const auto stored = stored_val_boxes();
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_NEAR(stored[0].xmin, 10 * 330.0 / 484.0, 1e-4);  // other.csv's box
}

}  // namespace
}  // namespace synshard::testing
