#include "synshard/image/pixel_stats.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "image/image_samples.hpp"
#include "image/libjpeg_api.hpp"
#include "synshard/image/decode.hpp"

namespace synshard::image {
namespace {

using testing::ByteVector;
using testing::encode_jpeg;
using testing::photo_like;

// Every level this CPU runs: the plain loop, and AVX2 on an AVX2 x86-64.
std::vector<Resampler::Simd> stats_levels() {
    std::vector<Resampler::Simd> levels{Resampler::Simd::none};
    for (const auto level : {Resampler::Simd::sse2, Resampler::Simd::avx2}) {
        if (level <= Resampler::best_simd()) levels.push_back(level);
    }
    return levels;
}

TEST(PixelStats, YcbcrSumsAreTheSameAtEverySimdLevelAndThoseOfLibjpegsPixels) {
    // Real 4:2:0 JPEGs: odd and even sizes, a single chroma column and two (which libjpeg
    // does not filter), widths just under, at and over the vector blocks (16 and 32
    // pixels) with every remainder of a block in the tail, and saturated colours
    // (the conversion clamps at both ends).
    cv::Mat saturated(45, 77, CV_8UC3);
    const cv::Vec3b palette[] = {{255, 0, 0}, {0, 0, 255}, {255, 255, 0}, {0, 255, 255}, {0, 0, 0}};
    for (int y = 0; y < saturated.rows; ++y) {
        for (int x = 0; x < saturated.cols; ++x)
            saturated.at<cv::Vec3b>(y, x) = palette[(y / 3 * 7 + x / 3) % 5];
    }
    std::vector<cv::Mat> images{saturated, photo_like(341, 256, 31), photo_like(256, 383, 32)};
    for (const int width : {1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 99}) {
        images.push_back(photo_like(width, width % 7 + 3, static_cast<std::uint64_t>(width)));
    }
    const auto levels = stats_levels();
    for (const cv::Mat& rgb : images) {
        SCOPED_TRACE(std::to_string(rgb.cols) + "x" + std::to_string(rgb.rows));
        const ByteVector jpeg = encode_jpeg(rgb);
        Decoder decoder;
        const auto header = std::get<SourceHeader>(decoder.read_header(jpeg, SourceFormat::jpeg));
        ASSERT_EQ(header.chroma_step, (Size{2, 2}));
        YcbcrPlanes ycbcr;
        ASSERT_FALSE(decoder.decode_ycbcr(jpeg, header, header.stored, ycbcr));
        const cv::Mat decoded = testing::libjpeg_decode(jpeg, 8);
        const PixelStats expected = pixel_stats(decoded, {0, 0, decoded.cols, decoded.rows});
        for (const auto level : levels) {
            EXPECT_EQ(ycbcr420_pixel_stats(ycbcr.planes, header.stored, level), expected)
                << "level " << static_cast<int>(level);
        }
    }
}

TEST(PixelStats, YcbcrSumsAtEverySimdLevelAgreeOnNoise) {
    // Planes of noise (every chroma difference and luma value, clamped often), sized as
    // the pipeline makes them: luma padded to whole chroma samples; up to JPEG's widest.
    cv::RNG rng(18);
    const auto levels = stats_levels();
    for (const Size size :
         {Size{341, 256}, Size{257, 255}, Size{33, 1}, Size{1, 33}, Size{4, 7}, Size{65535, 3}}) {
        SCOPED_TRACE(std::to_string(size.width) + "x" + std::to_string(size.height));
        const int chroma_rows = (size.height + 1) / 2;
        const int chroma_columns = (size.width + 1) / 2;
        std::array<cv::Mat, 3> planes{cv::Mat(2 * chroma_rows, 2 * chroma_columns, CV_8UC1),
                                      cv::Mat(chroma_rows, chroma_columns, CV_8UC1),
                                      cv::Mat(chroma_rows, chroma_columns, CV_8UC1)};
        for (auto& plane : planes) rng.fill(plane, cv::RNG::UNIFORM, 0, 256);
        const PixelStats plain = ycbcr420_pixel_stats(planes, size, Resampler::Simd::none);
        EXPECT_EQ(plain.pixels, static_cast<std::uint64_t>(size.width) * size.height);
        for (const auto level : levels) {
            EXPECT_EQ(ycbcr420_pixel_stats(planes, size, level), plain)
                << "level " << static_cast<int>(level);
        }
    }
}

}  // namespace
}  // namespace synshard::image
