// Pictures: inspect --plot at ImageNet's sizes (1,000 and 21,841 classes) stays readable;
// a contact sheet's cut captions say so and keep the class words.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "support/test_support.hpp"
#include "synshard/cli/inspect_plot.hpp"
#include "synshard/reader/picture.hpp"

namespace synshard::cli {
namespace {

// Class sizes as ImageNet-21k has them: a long tail (1 to 1300 images).
SplitSizes skewed(const std::string& split, std::size_t classes, std::uint64_t most) {
    SplitSizes sizes{split, {}};
    for (std::size_t i = 0; i < classes; ++i) {
        sizes.classes.push_back(
            {"class" + std::to_string(i), 1 + (most - 1) * ((i * 7919) % classes) / (classes - 1)});
    }
    return sizes;
}

// How many pixels of `region` differ from the background.
int ink(const cv::Mat& plot, const cv::Rect& region) {
    int count = 0;
    const cv::Vec3b background(255, 255, 255);
    for (int y = region.y; y < region.y + region.height; ++y)
        for (int x = region.x; x < region.x + region.width; ++x)
            count += plot.at<cv::Vec3b>(y, x) != background ? 1 : 0;
    return count;
}

// Runs of consecutive columns (or rows, with `rows`) of `region` holding ink.
int inked_runs(const cv::Mat& plot, const cv::Rect& region, bool rows) {
    int runs = 0;
    bool in_run = false;
    const int length = rows ? region.height : region.width;
    for (int i = 0; i < length; ++i) {
        const cv::Rect line = rows ? cv::Rect(region.x, region.y + i, region.width, 1)
                                   : cv::Rect(region.x + i, region.y, 1, region.height);
        const bool inked = ink(plot, line) > 0;
        if (inked && !in_run) ++runs;
        in_run = inked;
    }
    return runs;
}

int pixels_of(const cv::Mat& plot, const cv::Scalar& color) {
    cv::Mat mask;
    cv::inRange(plot, color, color, mask);
    return cv::countNonZero(mask);
}

TEST(InspectPlot, TickStepsAreRound) {
    EXPECT_EQ(tick_step(61, 5), 20U);
    EXPECT_EQ(tick_step(1300, 5), 500U);
    EXPECT_EQ(tick_step(21841, 8), 5000U);
    EXPECT_EQ(tick_step(3, 5), 1U);
}

class InspectPlotAtScale : public ::testing::TestWithParam<std::size_t> {};

TEST_P(InspectPlotAtScale, HasLabelledTicksOnBothAxesNamedExtremesAndRejectsBySplit) {
    const std::size_t classes = GetParam();
    const std::vector<RejectCount> rejects{
        {"corrupt", 40, 2}, {"too-small", 7, 0}, {"unknown-class", 0, 5}};
    const cv::Mat plot =
        draw_plot({skewed("train", classes, 1300), skewed("val", classes, 50)}, rejects);
    testing::TempDir dir;
    const auto png = dir / "plot.png";
    ASSERT_TRUE(cv::imwrite(png.string(), plot));
    const cv::Mat read = cv::imread(png.string(), cv::IMREAD_COLOR);
    const int panel = kPlotTitleHeight + kPlotAreaHeight + kPlotAxisHeight;
    ASSERT_EQ(read.cols, kPlotWidth);
    ASSERT_EQ(read.rows, 2 * panel + kPlotTitleHeight + 3 * 22 + 10);

    for (int split = 0; split < 2; ++split) {
        const int top = split * panel;
        const int bottom = top + kPlotTitleHeight + kPlotAreaHeight;
        SCOPED_TRACE("split " + std::to_string(split));
        // The title and the extremes' line under it.
        EXPECT_GT(ink(read, {kPlotMarginLeft, top + 4, 400, 18}), 100);
        EXPECT_GT(ink(read, {kPlotMarginLeft, top + 24, 400, 18}), 100);
        // Y tick labels left of the axis: 0 and at least two round values more.
        EXPECT_GE(
            inked_runs(read, {0, top + kPlotTitleHeight, kPlotMarginLeft - 6, kPlotAreaHeight + 6},
                       true),
            3);
        // X tick labels under the axis, then the axis title.
        const cv::Rect x_labels(kPlotMarginLeft - 10, bottom + 6,
                                kPlotWidth - kPlotMarginLeft - kPlotMarginRight + 20, 14);
        EXPECT_GE(inked_runs(read, x_labels, false), 4);
        EXPECT_GT(ink(read, {kPlotMarginLeft, bottom + 26, 300, 16}), 100);
        // The sorted curve: its first column is full height, its last is low.
        const cv::Scalar color = split == 0 ? kTrainColor : kValColor;
        cv::Mat first_column;
        cv::inRange(read(cv::Rect(kPlotMarginLeft, top + kPlotTitleHeight, 1, kPlotAreaHeight)),
                    color, color, first_column);
        EXPECT_EQ(cv::countNonZero(first_column), kPlotAreaHeight);
    }
    EXPECT_GT(pixels_of(read, kRejectColor), 0);
    EXPECT_GT(pixels_of(read, kValRejectColor), 0);
}

INSTANTIATE_TEST_SUITE_P(ImageNetSizes, InspectPlotAtScale, ::testing::Values(1000, 21841));

TEST(ContactSheetCaption, ACutLineEndsWithAnEllipsisAndKeepsTheClassWordsAtTile64) {
    EXPECT_EQ(reader::fit_caption("tench", 64), "tench");
    // show's second caption line: the words first, then the wnid.
    const std::string cut = reader::fit_caption("tench, Tinca tinca  n01440764", 64);
    EXPECT_TRUE(cut.ends_with("...")) << cut;
    EXPECT_TRUE(cut.starts_with("tench")) << cut;
    int baseline = 0;
    EXPECT_LE(cv::getTextSize(cut, cv::FONT_HERSHEY_SIMPLEX, 0.4, 1, &baseline).width, 64 - 8);
    // Never between the bytes of one UTF-8 character (\xc3\xa9 is one).
    for (int width = 16; width < 120; ++width) {
        const std::string fitted =
            reader::fit_caption("caf\xc3\xa9\xc3\xa9\xc3\xa9 au lait", width);
        const std::string text =
            fitted.substr(0, fitted.size() - (fitted.ends_with("...") ? 3 : 0));
        EXPECT_TRUE(text.empty() || static_cast<unsigned char>(text.back()) != 0xC3) << width;
    }
}

}  // namespace
}  // namespace synshard::cli
