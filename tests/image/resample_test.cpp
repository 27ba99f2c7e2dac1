#include "synshard/image/resample.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace synshard::image
