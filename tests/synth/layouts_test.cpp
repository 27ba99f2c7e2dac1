// `synshard synth --layout`: the same corpus in the official ILSVRC folders and in Kaggle's.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <pugixml.hpp>
#include <sstream>

#include "support/test_support.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
#include "synth/layout_corpora.hpp"

namespace synshard {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

using testing::read_text;

// Where Kaggle's copy keeps what the official tars extract to.
std::string kaggle_path(const std::string& ilsvrc_path) {
    for (const auto& [official, kaggle] :
         std::map<std::string, std::string>{{"train/", "ILSVRC/Data/CLS-LOC/train/"},
                                            {"val/", "ILSVRC/Data/CLS-LOC/val/"},
                                            {"Annotation/", "ILSVRC/Annotations/CLS-LOC/train/"}}) {
        if (ilsvrc_path.starts_with(official)) {
            return kaggle + ilsvrc_path.substr(official.size());
        }
    }
    return ilsvrc_path;  // the files at the top keep their names
}

// LOC_val_solution.csv's rows: image id -> "wnid x1 y1 x2 y2 ..." with single spaces.
std::map<std::string, std::string> val_rows(const fs::path& csv) {
    std::map<std::string, std::string> rows;
    std::istringstream lines(read_text(csv));
    std::string line;
    std::getline(lines, line);  // the header
    while (std::getline(lines, line)) {
        const auto comma = line.find(',');
        std::istringstream fields(line.substr(comma + 1));
        std::string joined;
        for (std::string field; fields >> field;) joined += (joined.empty() ? "" : " ") + field;
        rows[line.substr(0, comma)] = joined;
    }
    return rows;
}

// A val XML's objects in the csv's terms.
std::string xml_objects(const pugi::xml_node& annotation) {
    std::string joined;
    for (const auto& object : annotation.children("object")) {
        const auto box = object.child("bndbox");
        for (const std::string& field :
             {std::string(object.child_value("name")), std::string(box.child_value("xmin")),
              std::string(box.child_value("ymin")), std::string(box.child_value("xmax")),
              std::string(box.child_value("ymax"))}) {
            joined += (joined.empty() ? "" : " ") + field;
        }
    }
    return joined;
}

class SynthLayouts : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = std::make_unique<TempDir>();
        testing::synth_in_layouts(dir_->path(), {"ilsvrc", "kaggle"});
    }
    static void TearDownTestSuite() { dir_.reset(); }

    static fs::path ilsvrc() { return dir_->path() / "ilsvrc"; }
    static fs::path kaggle() { return dir_->path() / "kaggle"; }

    static inline std::unique_ptr<TempDir> dir_;
};

TEST_F(SynthLayouts, KaggleHoldsTheIlsvrcFilesInKagglesFoldersPlusTheValXmls) {
    const auto official = testing::file_digests(ilsvrc());
    auto copy = testing::file_digests(kaggle());
    std::size_t images = 0;
    for (const auto& [path, digest] : official) {
        if (path.starts_with("train_tars/")) {
            EXPECT_FALSE(fs::exists(kaggle() / "train_tars"));
            continue;
        }
        // They name the layout or its paths.
        if (path == "synth.json" || path == "quirks.json" || path == "synth-files.txt") continue;
        const auto found = copy.find(kaggle_path(path));
        ASSERT_NE(found, copy.end()) << path << " has no " << kaggle_path(path);
        EXPECT_EQ(found->second, digest) << path;
        images += path.ends_with(".JPEG") ? 1 : 0;
        copy.erase(found);
    }
    EXPECT_GT(images, 20U);
    copy.erase("synth.json");
    copy.erase("quirks.json");
    copy.erase("synth-files.txt");

    // What is left is Kaggle's val XMLs: one per val image, its boxes the csv's.
    const auto rows = val_rows(kaggle() / "LOC_val_solution.csv");
    ASSERT_EQ(rows.size(), 6U);
    for (const auto& [id, objects] : rows) {
        const std::string path = "ILSVRC/Annotations/CLS-LOC/val/" + id + ".xml";
        ASSERT_EQ(copy.erase(path), 1U) << path;
        pugi::xml_document document;
        ASSERT_TRUE(document.load_string(read_text(kaggle() / path).c_str())) << path;
        const auto annotation = document.child("annotation");
        EXPECT_STREQ(annotation.child_value("folder"), "val");
        EXPECT_EQ(annotation.child_value("filename"), id);
        EXPECT_EQ(xml_objects(annotation), objects) << path;
        const cv::Mat image =
            cv::imread((kaggle() / "ILSVRC/Data/CLS-LOC/val" / (id + ".JPEG")).string());
        EXPECT_EQ(annotation.child("size").child("width").text().as_int(), image.cols) << path;
        EXPECT_EQ(annotation.child("size").child("height").text().as_int(), image.rows) << path;
    }
    EXPECT_TRUE(copy.empty()) << copy.begin()->first << " is in no ILSVRC counterpart";
}

TEST_F(SynthLayouts, EachCorpusSaysItsLayoutAndItsQuirksAreWhereItPutThem) {
    const auto official = nlohmann::json::parse(read_text(ilsvrc() / "quirks.json"));
    const auto copy = nlohmann::json::parse(read_text(kaggle() / "quirks.json"));
    ASSERT_EQ(official.size(), copy.size());
    ASSERT_GT(official.size(), 15U);
    for (const auto& [path, entry] : official.items()) {
        ASSERT_TRUE(copy.contains(kaggle_path(path))) << path;
        auto expected = entry;
        if (entry.contains("same_as")) expected["same_as"] = kaggle_path(entry["same_as"]);
        EXPECT_EQ(copy[kaggle_path(path)], expected) << path;
        EXPECT_TRUE(fs::exists(kaggle() / kaggle_path(path))) << path;
    }
    EXPECT_EQ(nlohmann::json::parse(read_text(ilsvrc() / "synth.json"))["layout"], "ilsvrc");
    EXPECT_EQ(nlohmann::json::parse(read_text(kaggle() / "synth.json"))["layout"], "kaggle");
}

TEST(SynthLayoutOption, DefaultsToIlsvrcAndRefusesAnUnknownLayoutWritingNothing) {
    TempDir dir;
    const auto plain = testing::run_synshard({"synth", "--output", (dir / "plain").string(),
                                              "--num-classes", "1", "--per-class", "1",
                                              "--val-per-class", "0", "--image-size", "48x48"});
    ASSERT_EQ(plain.exit_code, 0) << plain.output;
    EXPECT_TRUE(fs::is_directory(dir / "plain" / "train_tars"));
    EXPECT_FALSE(fs::exists(dir / "plain" / "ILSVRC"));

    const auto bad =
        testing::run_synshard({"synth", "--output", (dir / "never").string(), "--layout", "tfds"});
    EXPECT_EQ(bad.exit_code, 2) << bad.output;
    EXPECT_NE(bad.output.find("ilsvrc"), std::string::npos) << bad.output;
    EXPECT_NE(bad.output.find("kaggle"), std::string::npos) << bad.output;
    EXPECT_FALSE(fs::exists(dir / "never"));
}

}  // namespace
}  // namespace synshard
