#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

// The picture `inspect --plot` draws, from counts alone (no output needed to test it).
namespace synshard::cli {

struct ClassSize {
    std::string name;  // the class's first word, "tench"
    std::uint64_t images = 0;
};

struct SplitSizes {
    std::string split;
    std::vector<ClassSize> classes;
};

struct RejectCount {
    std::string reason;
    std::uint64_t train = 0;
    std::uint64_t val = 0;
};

// Geometry and colours (BGR) the tests read the picture by.
inline constexpr int kPlotWidth = 900;
inline constexpr int kPlotMarginLeft = 64;
inline constexpr int kPlotMarginRight = 20;
inline constexpr int kPlotTitleHeight = 50;
inline constexpr int kPlotAreaHeight = 180;
inline constexpr int kPlotAxisHeight = 44;
const cv::Scalar kPlotBackground{255, 255, 255};
const cv::Scalar kTrainColor{180, 110, 30};
const cv::Scalar kValColor{40, 150, 240};
const cv::Scalar kRejectColor{60, 60, 200};
const cv::Scalar kValRejectColor{150, 150, 240};

// One panel per split (kPlotTitleHeight + kPlotAreaHeight + kPlotAxisHeight rows): its
// classes sorted by images, most first, one bar each (with more classes than pixel
// columns, a column shows the largest of the classes it covers: a sorted curve), the
// tallest filling kPlotAreaHeight; a labelled y axis (images per class) and x axis
// (class rank) with ticks; the title names the largest and smallest class. Then a panel
// with a row per reject reason, most first: a bar of its train rejects in kRejectColor
// followed by one of its val rejects in kValRejectColor, and their counts.
cv::Mat draw_plot(const std::vector<SplitSizes>& splits, std::vector<RejectCount> rejects);

// 1, 2, 5, 10, 20, 50, ...: the tick step that gives at most `ticks` steps up to `most`.
std::uint64_t tick_step(std::uint64_t most, int ticks);

}  // namespace synshard::cli
