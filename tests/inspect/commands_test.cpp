// inspect, show and locate, run as a user runs them, on a real converted output.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>

#include "reader/converted_output.hpp"
#include "support/test_support.hpp"
#include "synshard/reader/dataset.hpp"
#include "synshard/reader/picture.hpp"

namespace synshard::reader {
namespace {

using testing::run_synshard;

const cv::Vec3b kMagenta(255, 0, 255);  // BGR of kBoxColor

// Every pixel on the outline's four edges has the box colour; returns how many were checked.
int expect_outline(const cv::Mat& picture, const cv::Rect& outline, const std::string& what) {
    int checked = 0;
    const auto expect = [&](int x, int y) {
        ++checked;
        EXPECT_EQ(picture.at<cv::Vec3b>(y, x), kMagenta) << what << " at " << x << "," << y;
    };
    for (int x = outline.x; x < outline.x + outline.width; ++x) {
        expect(x, outline.y);
        expect(x, outline.y + outline.height - 1);
    }
    for (int y = outline.y; y < outline.y + outline.height; ++y) {
        expect(outline.x, y);
        expect(outline.x + outline.width - 1, y);
    }
    return checked;
}

// The index of a sample with at least one box.
std::uint64_t sample_with_boxes(const Dataset& dataset) {
    for (std::uint64_t i = 0; i < dataset.num_samples("train"); ++i) {
        if (!dataset.sample("train", i).boxes.empty()) return i;
    }
    ADD_FAILURE() << "no train sample has boxes";
    return 0;
}

TEST(ShowCommand, OneSampleAtItsStoredSizeWithItsBoxes) {
    testing::TempDir dir;
    const auto out = testing::write_converted_output(dir.path());
    const Dataset dataset(out);
    const std::uint64_t index = sample_with_boxes(dataset);
    const h5::SampleRow sample = dataset.sample("train", index);
    const std::string png = (dir / "one.png").string();
    const auto shown = run_synshard(
        {"show", out.string(), "--split", "train", "--index", std::to_string(index), "--out", png});
    ASSERT_EQ(shown.exit_code, 0) << shown.output;
    const cv::Mat picture = cv::imread(png, cv::IMREAD_COLOR);
    ASSERT_FALSE(picture.empty());
    EXPECT_EQ(picture.cols, sample.width);
    EXPECT_EQ(picture.rows, sample.height + caption_height(3));
    for (const image::Box& box : sample.boxes) {
        // Outer edge: from round(min) to round(max) - 1 in stored pixels.
        const cv::Rect outline(static_cast<int>(std::lround(box.xmin)),
                               static_cast<int>(std::lround(box.ymin)),
                               static_cast<int>(std::lround(box.xmax) - std::lround(box.xmin)),
                               static_cast<int>(std::lround(box.ymax) - std::lround(box.ymin)));
        EXPECT_GT(expect_outline(picture, outline, sample.key), 0);
    }
    // Inside the box, away from its edges, the photo shows (not the box colour everywhere).
    const image::Box& box = sample.boxes.front();
    const cv::Rect inside(static_cast<int>(box.xmin) + 3, static_cast<int>(box.ymin) + 3,
                          static_cast<int>(box.xmax - box.xmin) - 6,
                          static_cast<int>(box.ymax - box.ymin) - 6);
    if (inside.width > 0 && inside.height > 0) {
        cv::Mat mask;
        cv::inRange(picture(inside), kMagenta, kMagenta, mask);
        EXPECT_LT(cv::countNonZero(mask), inside.area());
    }

    // The same sample by key; bad values are usage errors and write nothing.
    const auto by_key = run_synshard({"show", out.string(), "--key", sample.key, "--out", png});
    EXPECT_EQ(by_key.exit_code, 0) << by_key.output;
    EXPECT_EQ(cv::imread(png).size(), picture.size());
    const std::string never = (dir / "never.png").string();
    EXPECT_EQ(run_synshard({"show", out.string(), "--index", "100000", "--out", never}).exit_code,
              2);
    EXPECT_EQ(run_synshard({"show", out.string(), "--split", "test", "--out", never}).exit_code, 2);
    EXPECT_EQ(run_synshard({"show", out.string(), "--key", "nope", "--out", never}).exit_code, 2);
    EXPECT_EQ(run_synshard({"show", out.string(), "--out", (dir / "x.jpg").string()}).exit_code, 2);
    EXPECT_EQ(run_synshard({"show", (dir / "nothing").string(), "--out", never}).exit_code, 1);
    EXPECT_FALSE(std::filesystem::exists(never));
}

// A file named like the picture's temporary is the user's: show refuses to write
// through it and leaves it, and the picture, as they were.
TEST(ShowCommand, NeverOverwritesAFileAtItsTemporaryName) {
    testing::TempDir dir;
    const auto out = testing::write_converted_output(dir.path());
    const auto png = dir / "one.png";
    std::ofstream(dir / "one.png.tmp") << "a user's draft";
    const auto shown = run_synshard(
        {"show", out.string(), "--split", "train", "--index", "0", "--out", png.string()});
    EXPECT_EQ(shown.exit_code, 1) << shown.output;
    EXPECT_NE(shown.output.find("one.png.tmp already exists"), std::string::npos) << shown.output;
    EXPECT_EQ(testing::read_text(dir / "one.png.tmp"), "a user's draft");
    EXPECT_FALSE(std::filesystem::exists(png));
}

TEST(ShowCommand, ContactSheetHasItsGridSizeAndBoxesWhereTheyBelong) {
    testing::TempDir dir;
    const auto out = testing::write_converted_output(dir.path());
    const Dataset dataset(out);
    const int count = 7;  // 3 columns x 3 rows, two cells empty
    const int side = 96;
    const std::uint64_t first = 2;
    const std::string png = (dir / "sheet.png").string();
    const auto shown = run_synshard(
        {"show", out.string(), "--split", "train", "--index", std::to_string(first),
         "--contact-sheet", std::to_string(count), "--tile", std::to_string(side), "--out", png});
    ASSERT_EQ(shown.exit_code, 0) << shown.output;
    const cv::Mat sheet = cv::imread(png, cv::IMREAD_COLOR);
    ASSERT_FALSE(sheet.empty());
    const int cell_height = side + caption_height(3);
    ASSERT_EQ(sheet.cols, 3 * side);
    ASSERT_EQ(sheet.rows, 3 * cell_height);
    int checked = 0;
    for (int i = 0; i < count; ++i) {
        const h5::SampleRow sample = dataset.sample("train", first + static_cast<std::uint64_t>(i));
        // The layout documented in picture.hpp, computed here independently.
        const double scale = std::min(static_cast<double>(side) / sample.width,
                                      static_cast<double>(side) / sample.height);
        const int scaled_width = static_cast<int>(std::lround(sample.width * scale));
        const int scaled_height = static_cast<int>(std::lround(sample.height * scale));
        const int left = i % 3 * side + (side - scaled_width) / 2;
        const int top = i / 3 * cell_height + (side - scaled_height) / 2;
        // Outside the scaled image (the letterbox) the cell is background.
        if (left > i % 3 * side) {
            EXPECT_EQ(sheet.at<cv::Vec3b>(top, left - 1), cv::Vec3b(32, 32, 32)) << sample.key;
        }
        for (const image::Box& box : sample.boxes) {
            const auto at = [&](float v) { return static_cast<int>(std::lround(v * scale)); };
            const int x0 = left + at(box.xmin);
            const int y0 = top + at(box.ymin);
            const int x1 = left + std::min(at(box.xmax), scaled_width) - 1;
            const int y1 = top + std::min(at(box.ymax), scaled_height) - 1;
            checked +=
                expect_outline(sheet, cv::Rect(x0, y0, x1 - x0 + 1, y1 - y0 + 1), sample.key);
        }
    }
    EXPECT_GT(checked, 0) << "none of the sheet's samples has a box";
    // Past the last sample, the cells stay empty.
    EXPECT_EQ(sheet.at<cv::Vec3b>(2 * cell_height + side / 2, 2 * side + side / 2),
              cv::Vec3b(32, 32, 32));
}

TEST(LocateCommand, PrintsSplitShardAndRowOrSaysTheKeyIsMissing) {
    testing::TempDir dir;
    const auto out = testing::write_converted_output(dir.path());
    const Dataset dataset(out);
    const h5::SampleRow train = dataset.sample("train", 13);
    const h5::SampleRow val = dataset.sample("val", 3);
    const auto found = run_synshard({"locate", out.string(), train.key, val.key});
    ASSERT_EQ(found.exit_code, 0) << found.output;
    const SamplePosition train_at = dataset.position("train", 13);
    const SamplePosition val_at = dataset.position("val", 3);
    const auto line = [&](const h5::SampleRow& sample, const std::string& split,
                          SamplePosition at) {
        return sample.key + "\t" + split + "\t" + std::to_string(at.shard) + "\t" +
               std::to_string(at.row) + "\t" + dataset.index().shard_paths(split)[at.shard] + "\n";
    };
    EXPECT_EQ(found.output, line(train, "train", train_at) + line(val, "val", val_at));

    const Rejection& rejected = dataset.manifest().rejected.front();
    const auto missing = run_synshard(
        {"locate", (out / "index.h5").string(), "n01440764/none.JPEG", rejected.key, val.key});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.output.find("n01440764/none.JPEG\tnot found"), std::string::npos)
        << missing.output;
    EXPECT_NE(missing.output.find(rejected.key + "\trejected\t" +
                                  std::string(to_string(rejected.reason))),
              std::string::npos)
        << missing.output;
    EXPECT_NE(missing.output.find(line(val, "val", val_at)), std::string::npos);
    EXPECT_EQ(run_synshard({"locate", out.string()}).exit_code, 2);
}

TEST(InspectCommand, SummaryTextAndJsonAgreeWithTheManifest) {
    testing::TempDir dir;
    const auto out = testing::write_converted_output(dir.path());
    const Dataset dataset(out);
    const manifest::Manifest& manifest = dataset.manifest();
    const auto text = run_synshard({"inspect", out.string()});
    ASSERT_EQ(text.exit_code, 0) << text.output;
    for (const std::string& expected :
         {std::string("encoding      jpeg, quality 90"), std::string("shorter:64"),
          "train" +
              std::string(13 - std::to_string(manifest.splits.at("train").num_samples).size(),
                          ' ') +
              std::to_string(manifest.splits.at("train").num_samples),
          std::string("duplicates"), std::string("leaks"), std::string("mean (RGB)")}) {
        EXPECT_NE(text.output.find(expected), std::string::npos) << expected << "\n" << text.output;
    }

    const auto json = run_synshard({"inspect", out.string(), "--json", "-"});
    ASSERT_EQ(json.exit_code, 0) << json.output;
    const auto summary = nlohmann::json::parse(json.output);
    EXPECT_EQ(summary["num_classes"], manifest.classes.size());
    EXPECT_EQ(summary["splits"]["val"]["num_samples"], manifest.splits.at("val").num_samples);
    EXPECT_EQ(summary["splits"]["train"]["shards"], manifest.splits.at("train").shards.size());
    std::map<std::string, std::uint64_t> by_reason;
    for (const Rejection& rejection : manifest.rejected)
        ++by_reason[std::string(to_string(rejection.reason))];
    EXPECT_FALSE(by_reason.empty()) << "the quirks corpus has rejects";
    EXPECT_EQ(summary["rejected"]["by_reason"].get<decltype(by_reason)>(), by_reason);
    EXPECT_EQ(summary["duplicates"]["groups"], manifest.duplicates.size());
    EXPECT_EQ(summary["leaks"]["groups"], manifest.leaks.size());
    EXPECT_DOUBLE_EQ(summary["stats"]["mean"][1].get<double>(), manifest.stats.mean[1]);
    std::uint64_t bytes = 0;
    for (const auto& shard : manifest.splits.at("train").shards) bytes += shard.bytes;
    EXPECT_EQ(summary["splits"]["train"]["bytes"], bytes);

    // --json FILE writes the same document and still prints the text.
    const auto file = run_synshard({"inspect", out.string(), "--json", (dir / "s.json").string()});
    ASSERT_EQ(file.exit_code, 0) << file.output;
    EXPECT_EQ(file.output, text.output);
    std::ifstream written(dir / "s.json");
    EXPECT_EQ(nlohmann::json::parse(written), summary);
}

TEST(InspectCommand, ClassShowsItsPathAndCountsAndAncestorsListTheirClasses) {
    testing::TempDir dir;
    const auto out = testing::write_converted_output(dir.path());
    const Dataset dataset(out);
    const manifest::ClassSummary& tench = dataset.manifest().classes.at(0);
    ASSERT_EQ(tench.synset, "n01440764");
    const auto shown =
        run_synshard({"inspect", out.string(), "--class", tench.synset, "--json", "-"});
    ASSERT_EQ(shown.exit_code, 0) << shown.output;
    const auto json = nlohmann::json::parse(shown.output);
    EXPECT_EQ(json["label"], 0);
    EXPECT_EQ(json["words"], tench.words);
    EXPECT_EQ(json["counts"]["train"], tench.counts.at("train"));
    EXPECT_EQ(json["counts"]["val"], tench.counts.at("val"));
    ASSERT_FALSE(json["paths"].empty());
    EXPECT_EQ(json["paths"][0].front()["synset"], "n00001740");
    EXPECT_EQ(json["paths"][0].back()["synset"], tench.synset);

    const auto text = run_synshard({"inspect", out.string(), "--class", tench.synset});
    ASSERT_EQ(text.exit_code, 0) << text.output;
    EXPECT_NE(text.output.find("entity > physical entity > object"), std::string::npos)
        << text.output;
    EXPECT_NE(text.output.find("> fish > "), std::string::npos) << text.output;
    EXPECT_NE(text.output.find("train " + std::to_string(tench.counts.at("train"))),
              std::string::npos)
        << text.output;

    // "fish" is no class but an ancestor of tench and goldfish.
    const auto fish =
        run_synshard({"inspect", out.string(), "--class", "n02512053", "--json", "-"});
    ASSERT_EQ(fish.exit_code, 0) << fish.output;
    const auto fish_json = nlohmann::json::parse(fish.output);
    EXPECT_TRUE(fish_json["label"].is_null());
    ASSERT_EQ(fish_json["classes"].size(), 2U);
    EXPECT_EQ(fish_json["classes"][0]["synset"], "n01440764");
    EXPECT_EQ(fish_json["classes"][1]["synset"], "n01443537");
    EXPECT_EQ(fish_json["counts"]["train"],
              tench.counts.at("train") + dataset.manifest().classes.at(1).counts.at("train"));

    EXPECT_EQ(run_synshard({"inspect", out.string(), "--class", "n02084071"}).exit_code, 2);
    EXPECT_EQ(run_synshard({"inspect", out.string(), "--class", "tench"}).exit_code, 2);
}

// The columns of `plot` holding `color`, as runs of consecutive columns (one per bar),
// with the height of each run's coloured pixels.
std::vector<int> bar_heights(const cv::Mat& plot, const cv::Vec3b& color) {
    std::vector<int> heights;
    bool in_bar = false;
    for (int x = 0; x < plot.cols; ++x) {
        int height = 0;
        for (int y = 0; y < plot.rows; ++y) height += plot.at<cv::Vec3b>(y, x) == color ? 1 : 0;
        if (height > 0 && !in_bar) heights.push_back(height);
        in_bar = height > 0;
    }
    return heights;
}

TEST(InspectCommand, PlotDrawsOneSortedBarPerClassAndOnePerRejectReason) {
    testing::TempDir dir;
    const auto out = testing::write_converted_output(dir.path());
    const Dataset dataset(out);
    const manifest::Manifest& manifest = dataset.manifest();
    const std::string png = (dir / "plot.png").string();
    const auto plotted = run_synshard({"inspect", out.string(), "--plot", png});
    ASSERT_EQ(plotted.exit_code, 0) << plotted.output;
    const cv::Mat plot = cv::imread(png, cv::IMREAD_COLOR);
    ASSERT_FALSE(plot.empty());
    EXPECT_EQ(plot.cols, 900);
    // Bar colours (BGR): train, val, rejects.
    const cv::Vec3b train_color(180, 110, 30), val_color(40, 150, 240), reject_color(60, 60, 200);
    const std::vector<int> train = bar_heights(plot, train_color);
    ASSERT_EQ(train.size(), manifest.classes.size());
    EXPECT_TRUE(std::is_sorted(train.rbegin(), train.rend())) << "bars are sorted, most first";
    std::vector<std::uint64_t> counts;
    for (const auto& entry : manifest.classes) counts.push_back(entry.counts.at("train"));
    std::sort(counts.rbegin(), counts.rend());
    EXPECT_EQ(train.front(), 180);  // the tallest bar fills the plot area
    EXPECT_NEAR(train.back(), 180.0 * static_cast<double>(counts.back()) / counts.front(), 1.0);
    EXPECT_EQ(bar_heights(plot, val_color).size(), manifest.classes.size());
    // Reject bars are horizontal, train then val: count rows of the reject colours in runs.
    cv::Mat rejects;
    cv::transpose(plot, rejects);
    cv::Mat val_reject_rows;
    cv::inRange(rejects, cv::Scalar(150, 150, 240), cv::Scalar(150, 150, 240), val_reject_rows);
    cv::Mat val_rejects = rejects.clone();
    val_rejects.setTo(cv::Scalar(reject_color), val_reject_rows);
    std::set<std::string> reasons;
    for (const Rejection& rejection : manifest.rejected)
        reasons.insert(std::string(to_string(rejection.reason)));
    EXPECT_EQ(bar_heights(val_rejects, reject_color).size(), reasons.size());
    EXPECT_EQ(run_synshard({"inspect", out.string(), "--plot", (dir / "p.svg").string()}).exit_code,
              2);
}

}  // namespace
}  // namespace synshard::reader
