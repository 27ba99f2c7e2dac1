#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "synshard/image/turbojpeg_handle.hpp"

namespace synshard::image {

// Layout of the pixels handed to JpegEncoder::encode: interleaved 8-bit samples, rows
// back to back (pitch = width * channels).
enum class PixelLayout { rgb, gray, cmyk };

enum class ChromaSubsampling { s444, s422, s420, gray };

struct JpegEncodeSettings {
    int quality = 90;  // 1..100
    ChromaSubsampling subsampling = ChromaSubsampling::s420;
    bool progressive = false;
};

// TurboJPEG compressor. One per thread; reusing it avoids re-allocating libjpeg state
// for every image. Output bytes depend only on the pixels and settings (libjpeg-turbo's
// integer DCT is exact across SIMD levels).
class JpegEncoder {
  public:
    JpegEncoder();

    // Throws Error with TurboJPEG's message on failure. CMYK input is written as an
    // Adobe (inverted) YCCK JPEG, as libjpeg does for CMYK sources.
    std::vector<std::uint8_t> encode(std::span<const std::uint8_t> pixels, int width, int height,
                                     PixelLayout layout, const JpegEncodeSettings& settings);

    // Encodes 4:2:0 Y, Cb and Cr planes (the chroma planes ceil(width / 2) x
    // ceil(height / 2), the Y plane twice that, as TurboJPEG's tjPlaneWidth/Height; rows
    // `strides` bytes apart) as a baseline JPEG of width x height:
    // the colour conversion and chroma downsampling of encode() are skipped. Throws Error
    // as encode() does.
    std::vector<std::uint8_t> encode_ycbcr420(const std::array<const std::uint8_t*, 3>& planes,
                                              const std::array<int, 3>& strides, int width,
                                              int height, int quality);

  private:
    std::vector<std::uint8_t> finish(int status, unsigned char* output, unsigned long size);

    TurboJpegHandle handle_;
};

}  // namespace synshard::image
