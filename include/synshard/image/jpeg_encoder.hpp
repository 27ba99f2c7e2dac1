#pragma once

#include <cstdint>
#include <span>
#include <vector>

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
    ~JpegEncoder();
    JpegEncoder(const JpegEncoder&) = delete;
    JpegEncoder& operator=(const JpegEncoder&) = delete;

    // Throws Error with TurboJPEG's message on failure. CMYK input is written as an
    // Adobe (inverted) YCCK JPEG, as libjpeg does for CMYK sources.
    std::vector<std::uint8_t> encode(std::span<const std::uint8_t> pixels, int width, int height,
                                     PixelLayout layout, const JpegEncodeSettings& settings);

  private:
    void* handle_;
};

}  // namespace synshard::image
