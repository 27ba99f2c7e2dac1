#include "synshard/image/resample.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "image/image_samples.hpp"

namespace synshard::image {
namespace {

TEST(Resampler, ScaleOneIsTheIdentity) {
    const cv::Mat source = testing::photo_like(123, 77, 5);
    cv::Mat target(source.rows, source.cols, CV_8UC3);
    Resampler resampler;
    resampler.resample(source, {1, 0}, {1, 0}, target);
    EXPECT_EQ(cv::norm(source, target, cv::NORM_INF), 0);
}

TEST(Resampler, FlatStaysFlatAtAnyScale) {
    const cv::Mat source(375, 500, CV_8UC1, cv::Scalar(173));
    Resampler resampler;
    for (const double scale : {0.5, 1.0, 1.46, 1.9, 3.7}) {
        cv::Mat target(static_cast<int>(375 / scale), static_cast<int>(500 / scale), CV_8UC1);
        resampler.resample(source, {scale, 0.3}, {scale, -0.2}, target);
        EXPECT_EQ(cv::norm(target - 173, cv::NORM_INF), 0) << scale;
        EXPECT_EQ(cv::norm(173 - target, cv::NORM_INF), 0) << scale;
    }
}

TEST(Resampler, WeightsSumToOneAndStayInsideTheSource) {
    Resampler::Table table;
    for (const double scale : {0.4, 1.0, 1.46, 2.5}) {
        Resampler::build_table({scale, 0}, 100, static_cast<int>(100 / scale),
                               Resampler::tap_count(scale), table);
        for (std::size_t i = 0; i < table.first.size(); ++i) {
            int sum = 0;
            for (int k = 0; k < table.taps; ++k) sum += table.weights[i * table.taps + k];
            EXPECT_EQ(sum, 1 << Resampler::kWeightBits);
            EXPECT_GE(table.first[i], 0);
            EXPECT_LE(table.first[i] + table.taps, 100);
        }
    }
}

// The fixed-point formula of resample.hpp, one sample at a time, from the public tables.
cv::Mat reference_resample(const cv::Mat& source, AxisMap x, AxisMap y, cv::Size size) {
    Resampler::Table columns;
    Resampler::Table rows;
    Resampler::build_table(x, source.cols, size.width, Resampler::row_tap_count(x.scale), columns);
    Resampler::build_table(y, source.rows, size.height, Resampler::tap_count(y.scale), rows);
    const int channels = source.channels();
    const int vertical_shift = Resampler::kWeightBits - Resampler::kRowBits;
    const int horizontal_shift = Resampler::kWeightBits + Resampler::kRowBits;
    cv::Mat target(size, source.type());
    std::vector<std::int32_t> row(static_cast<std::size_t>(source.cols * channels));
    for (int out_y = 0; out_y < size.height; ++out_y) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            std::int32_t sum = 1 << (vertical_shift - 1);
            for (int k = 0; k < rows.taps; ++k) {
                sum += rows.weights[static_cast<std::size_t>(out_y * rows.taps + k)] *
                       source.ptr<std::uint8_t>(rows.first[static_cast<std::size_t>(out_y)] + k)[i];
            }
            row[i] = static_cast<std::int16_t>(sum >> vertical_shift);
        }
        for (int out_x = 0; out_x < size.width; ++out_x) {
            for (int c = 0; c < channels; ++c) {
                std::int32_t sum = 1 << (horizontal_shift - 1);
                for (int k = 0; k < columns.taps; ++k) {
                    const int column = columns.first[static_cast<std::size_t>(out_x)] + k;
                    sum += columns.weights[static_cast<std::size_t>(out_x * columns.taps + k)] *
                           row[static_cast<std::size_t>(column * channels + c)];
                }
                target.ptr<std::uint8_t>(out_y)[out_x * channels + c] =
                    static_cast<std::uint8_t>(std::clamp(sum >> horizontal_shift, 0, 255));
            }
        }
    }
    return target;
}

TEST(Resampler, SimdPassesComputeExactlyTheFixedPointFormula) {
    struct Case {
        cv::Size source;
        cv::Size target;
        double offset;
    };
    // Shrinking by ~1.1 (ImageNet at shorter:256 after DCT scaling), by 1.5-8 (wide
    // filters, taps beyond 8), enlarging, odd widths (the scalar tails) and crops.
    const Case cases[] = {{{375, 282}, {342, 256}, 0},  {{188, 141}, {171, 128}, 0.25},
                          {{500, 375}, {61, 45}, 0},    {{97, 83}, {131, 201}, 0},
                          {{257, 19}, {37, 7}, 3.5},    {{40, 40}, {13, 29}, 0},
                          {{1000, 700}, {250, 175}, 0}, {{9, 5}, {3, 2}, 0}};
    cv::RNG rng(7);
    for (const int channels : {1, 3}) {
        for (const Case& c : cases) {
            cv::Mat source(c.source, CV_8UC(channels));
            rng.fill(source, cv::RNG::UNIFORM, 0, 256);  // noise: the worst case for overshoot
            const AxisMap x{static_cast<double>(c.source.width) / c.target.width, c.offset};
            const AxisMap y{static_cast<double>(c.source.height) / c.target.height, c.offset};
            Resampler resampler;
            cv::Mat target(c.target, source.type());
            // Twice: the second call reuses the cached tables.
            for (int pass = 0; pass < 2; ++pass) {
                resampler.resample(source, x, y, target);
                EXPECT_EQ(
                    cv::norm(target, reference_resample(source, x, y, c.target), cv::NORM_INF), 0)
                    << channels << " channels, " << c.source << " -> " << c.target << ", pass "
                    << pass;
            }
        }
    }
}

}  // namespace
}  // namespace synshard::image
