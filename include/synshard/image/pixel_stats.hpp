#pragma once

#include <array>
#include <cstdint>
#include <opencv2/core.hpp>

#include "synshard/image/geometry.hpp"
#include "synshard/image/resample.hpp"

namespace synshard::image {

// Per-channel integer sums over an RGB image's content: exact, so means and standard
// deviations combined over a corpus do not depend on the order images are added in.
struct PixelStats {
    std::array<std::uint64_t, 3> sum{};
    std::array<std::uint64_t, 3> sum_of_squares{};
    std::uint64_t pixels = 0;

    PixelStats& operator+=(const PixelStats& other);
    // Takes back what += added.
    PixelStats& operator-=(const PixelStats& other);
    friend bool operator==(const PixelStats&, const PixelStats&) = default;
};

// Sums over `content` of a CV_8UC3 image (padding outside it is not counted).
PixelStats pixel_stats(const cv::Mat& rgb, const Rect& content);

// Sums over the first size.width x size.height pixels of the RGB image that 4:2:0 Y, Cb
// and Cr planes (CV_8UC1, laid out as JpegEncoder::encode_ycbcr420 takes them) stand for:
// exactly the pixels libjpeg-turbo decodes from them (the chroma upsampled by its "fancy"
// triangle filter, TurboJPEG's default, then JFIF's conversion with its integer tables).
// `simd` avx2 upsamples and sums 32 pixels at a time, none and sse2 run the plain loop
// (which the compiler vectorises); the sums are the same integers at every level (the
// tests compare them). Throws Error when a plane is smaller than that, size is wider than
// a JPEG can be (65535), or `simd` is above Resampler::best_simd().
PixelStats ycbcr420_pixel_stats(const std::array<cv::Mat, 3>& planes, Size size,
                                Resampler::Simd simd = Resampler::best_simd());

}  // namespace synshard::image
