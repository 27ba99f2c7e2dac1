#include <gtest/gtest.h>

#include "synshard/image/jpeg_encoder.hpp"

namespace synshard::image {
namespace {

std::vector<std::uint8_t> gradient(int width, int height) {
    std::vector<std::uint8_t> pixels(static_cast<std::size_t>(width * height * 3));
    for (std::size_t i = 0; i < pixels.size(); ++i)
        pixels[i] = static_cast<std::uint8_t>((i * 7) % 251);
    return pixels;
}

// libjpeg-turbo 2.1.5 keeps a handle's progressive scan script; the encoder must not let
// that leak into the next baseline encode.
TEST(JpegEncoder, BaselineAfterProgressiveIsTheSameAsOnAFreshEncoder) {
    const auto pixels = gradient(64, 48);
    JpegEncodeSettings baseline;
    JpegEncodeSettings progressive;
    progressive.progressive = true;
    JpegEncoder fresh;
    const auto expected = fresh.encode(pixels, 64, 48, PixelLayout::rgb, baseline);
    JpegEncoder reused;
    reused.encode(pixels, 64, 48, PixelLayout::rgb, progressive);
    EXPECT_EQ(reused.encode(pixels, 64, 48, PixelLayout::rgb, baseline), expected);
}

}  // namespace
}  // namespace synshard::image
