#include "synshard/cli/inspect_plot.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "synshard/util/quantity.hpp"

namespace synshard::cli {
namespace {

constexpr int kReasonRowHeight = 22;
constexpr int kReasonLabelWidth = 180;
constexpr int kTickLength = 4;
const cv::Scalar kInk{40, 40, 40};

cv::Scalar split_color(std::size_t split) {
    static const cv::Scalar colors[] = {kTrainColor, kValColor, {90, 160, 60}};
    return colors[split % 3];
}

void put_text(cv::Mat& image, const std::string& text, cv::Point at, double scale = 0.5) {
    cv::putText(image, text, at, cv::FONT_HERSHEY_SIMPLEX, scale, kInk, 1, cv::LINE_AA);
}

int text_width(const std::string& text, double scale) {
    int baseline = 0;
    return cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline).width;
}

// The y axis: ticks at multiples of a round step from 0 to `most`, labelled on the left.
void draw_y_axis(cv::Mat& panel, std::uint64_t most, int bottom) {
    cv::line(panel, {kPlotMarginLeft - 1, kPlotTitleHeight}, {kPlotMarginLeft - 1, bottom}, kInk);
    const std::uint64_t step = tick_step(most, 5);
    for (std::uint64_t value = 0; value <= most; value += step) {
        const int y =
            bottom - static_cast<int>(std::lround(static_cast<double>(value) * kPlotAreaHeight /
                                                  static_cast<double>(most)));
        cv::line(panel, {kPlotMarginLeft - 1 - kTickLength, y}, {kPlotMarginLeft - 1, y}, kInk);
        const std::string label = std::to_string(value);
        put_text(panel, label, {kPlotMarginLeft - 8 - kTickLength - text_width(label, 0.4), y + 4},
                 0.4);
    }
    put_text(panel, "images", {4, kPlotTitleHeight - 14}, 0.4);
}

// The x axis: class ranks 1 (the largest) to n, ticks at round ranks.
void draw_x_axis(cv::Mat& panel, std::size_t classes, int bottom) {
    const int width = kPlotWidth - kPlotMarginLeft - kPlotMarginRight;
    cv::line(panel, {kPlotMarginLeft - 1, bottom}, {kPlotWidth - kPlotMarginRight, bottom}, kInk);
    const auto n = static_cast<std::uint64_t>(classes);
    const std::uint64_t step = tick_step(n, 8);
    const auto tick = [&](std::uint64_t rank) {
        // The middle of the rank's column.
        const int x = kPlotMarginLeft + static_cast<int>((2 * (rank - 1) + 1) * width / (2 * n));
        cv::line(panel, {x, bottom}, {x, bottom + kTickLength}, kInk);
        const std::string label = std::to_string(rank);
        put_text(panel, label, {x - text_width(label, 0.4) / 2, bottom + kTickLength + 13}, 0.4);
    };
    tick(1);
    for (std::uint64_t rank = step; rank + step / 2 < n; rank += step) tick(rank);
    if (n > 1) tick(n);
    put_text(panel, "classes, ranked by images (1 = most)", {kPlotMarginLeft, bottom + 38}, 0.4);
}

cv::Mat class_panel(const SplitSizes& sizes, const cv::Scalar& color) {
    cv::Mat panel(kPlotTitleHeight + kPlotAreaHeight + kPlotAxisHeight, kPlotWidth, CV_8UC3,
                  kPlotBackground);
    std::vector<ClassSize> classes = sizes.classes;
    std::stable_sort(classes.begin(), classes.end(),
                     [](const ClassSize& a, const ClassSize& b) { return a.images > b.images; });
    std::uint64_t total = 0;
    for (const auto& entry : classes) total += entry.images;
    put_text(panel,
             sizes.split + ": " + count_of(total, "image") + " in " +
                 count_of(classes.size(), "class") + ", sorted",
             {kPlotMarginLeft, 18});
    const int bottom = kPlotTitleHeight + kPlotAreaHeight;
    if (classes.empty()) return panel;
    const ClassSize& largest = classes.front();
    const ClassSize& smallest = classes.back();
    put_text(panel,
             "most: " + largest.name + " " + std::to_string(largest.images) +
                 "   fewest: " + smallest.name + " " + std::to_string(smallest.images),
             {kPlotMarginLeft, 36}, 0.45);
    const std::uint64_t most = std::max<std::uint64_t>(1, largest.images);
    const int width = kPlotWidth - kPlotMarginLeft - kPlotMarginRight;
    const auto n = static_cast<std::int64_t>(classes.size());
    for (std::int64_t i = 0; i < n; ++i) {
        const std::uint64_t count = classes[static_cast<std::size_t>(i)].images;
        if (count == 0) continue;
        // With more classes than pixels several share a column; sorted, the tallest shows.
        int left = kPlotMarginLeft + static_cast<int>(i * width / n);
        int right = kPlotMarginLeft + static_cast<int>((i + 1) * width / n) - 1;
        if (right - left >= 2) --right;  // a gap between bars wide enough to have one
        right = std::max(left, right);
        const int height = static_cast<int>(
            std::lround(static_cast<double>(count) * kPlotAreaHeight / static_cast<double>(most)));
        if (height == 0) continue;
        cv::rectangle(panel, cv::Point(left, bottom - height), cv::Point(right, bottom - 1), color,
                      cv::FILLED);
    }
    draw_y_axis(panel, most, bottom);
    draw_x_axis(panel, classes.size(), bottom);
    return panel;
}

cv::Mat rejects_panel(std::vector<RejectCount> reasons) {
    std::stable_sort(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) {
        return a.train + a.val > b.train + b.val;
    });
    const int rows = std::max<int>(1, static_cast<int>(reasons.size()));
    cv::Mat panel(kPlotTitleHeight + rows * kReasonRowHeight + 10, kPlotWidth, CV_8UC3,
                  kPlotBackground);
    std::uint64_t train = 0, val = 0;
    for (const auto& reason : reasons) {
        train += reason.train;
        val += reason.val;
    }
    put_text(panel,
             "rejected inputs by reason: " + std::to_string(train) + " train, " +
                 std::to_string(val) + " val",
             {kPlotMarginLeft, 22});
    if (reasons.empty()) {
        put_text(panel, "none", {kPlotMarginLeft, kPlotTitleHeight + 16});
        return panel;
    }
    const int width = kPlotWidth - kReasonLabelWidth - kPlotMarginRight - 130;
    const double most = static_cast<double>(reasons.front().train + reasons.front().val);
    for (std::size_t i = 0; i < reasons.size(); ++i) {
        const int top = kPlotTitleHeight + static_cast<int>(i) * kReasonRowHeight;
        put_text(panel, reasons[i].reason, {10, top + 15});
        int at = kReasonLabelWidth;
        for (const auto& [count, color] : {std::pair{reasons[i].train, kRejectColor},
                                           std::pair{reasons[i].val, kValRejectColor}}) {
            if (count == 0) continue;
            const int length = std::max(
                1, static_cast<int>(std::lround(static_cast<double>(count) * width / most)));
            cv::rectangle(panel, cv::Point(at, top + 3),
                          cv::Point(at + length - 1, top + kReasonRowHeight - 4), color,
                          cv::FILLED);
            at += length;
        }
        put_text(
            panel,
            "train " + std::to_string(reasons[i].train) + ", val " + std::to_string(reasons[i].val),
            {at + 6, top + 15}, 0.4);
    }
    return panel;
}

}  // namespace

std::uint64_t tick_step(std::uint64_t most, int ticks) {
    std::uint64_t scale = 1;
    for (;;) {
        for (const std::uint64_t factor : {1, 2, 5}) {
            const std::uint64_t step = factor * scale;
            if (most / step <= static_cast<std::uint64_t>(ticks)) return step;
        }
        scale *= 10;
    }
}

cv::Mat draw_plot(const std::vector<SplitSizes>& splits, std::vector<RejectCount> rejects) {
    std::vector<cv::Mat> panels;
    for (std::size_t i = 0; i < splits.size(); ++i)
        panels.push_back(class_panel(splits[i], split_color(i)));
    panels.push_back(rejects_panel(std::move(rejects)));
    cv::Mat plot;
    cv::vconcat(panels, plot);
    return plot;
}

}  // namespace synshard::cli
