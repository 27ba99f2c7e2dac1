#pragma once

#include <array>
#include <cstdint>
#include <opencv2/core.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "synshard/image/geometry.hpp"
#include "synshard/image/turbojpeg_handle.hpp"
#include "synshard/util/reason.hpp"

namespace synshard::image {

// Formats told apart by their first bytes, never by a file's name.
enum class SourceFormat { jpeg, png, webp, bmp, unknown };

SourceFormat sniff_format(std::span<const std::uint8_t> bytes);

// "jpeg", "png", "webp", "bmp", "unknown".
std::string_view to_string(SourceFormat format);
std::optional<SourceFormat> parse_source_format(std::string_view text);

// Why one image does not reach a shard: an image reason code and a human detail.
struct ImageFailure {
    Reason reason;
    std::string detail;
};

struct Rgb {
    std::uint8_t red = 255;
    std::uint8_t green = 255;
    std::uint8_t blue = 255;

    friend bool operator==(const Rgb&, const Rgb&) = default;
};

// What an image's header says, learnt without decoding a pixel.
struct SourceHeader {
    SourceFormat format = SourceFormat::unknown;
    Size stored;          // the pixel grid as stored (before EXIF orientation)
    int orientation = 1;  // EXIF orientation 1..8 (JPEG APP1 or PNG eXIf), 1 when absent
    // A plain 8-bit RGB or grayscale baseline/progressive JPEG, or an 8-bit RGB or
    // grayscale PNG without transparency: bytes other tools read the same way.
    bool plain = false;
    bool transparency = false;   // an alpha channel or a PNG tRNS chunk
    bool cmyk = false;           // a CMYK or YCCK JPEG
    bool inverted_cmyk = false;  // ... with an Adobe marker: stored values are 255 - ink
    // A YCbCr JPEG's chroma subsampling: chroma planes hold one sample per
    // chroma_step.width x chroma_step.height luma samples. {0, 0} for anything else,
    // including the legal subsamplings TurboJPEG has no name for (4:1:0, Cb sampled unlike
    // Cr, ...): its plane calls refuse those, while decode() takes them like any JPEG.
    Size chroma_step = {};
};

// A JPEG's Y, Cb and Cr planes (CV_8UC1 each) as stored, before colour conversion.
struct YcbcrPlanes {
    std::array<cv::Mat, 3> planes;
    Size chroma_step;  // see SourceHeader
};

// Decodes untrusted image bytes to 8-bit RGB. One per thread: it keeps a TurboJPEG
// decompressor and scratch buffers for reuse. Never throws for bad bytes (those are
// ImageFailure values); throws Error only when a library cannot get memory.
class Decoder {
  public:
    Decoder();

    // Reads the header of `bytes`, which sniff_format() found to be `format` (not
    // unknown). Allocates nothing proportional to the image's dimensions.
    std::variant<SourceHeader, ImageFailure> read_header(std::span<const std::uint8_t> bytes,
                                                         SourceFormat format);

    // Decodes `bytes` (whose header is `header`, already checked against the caller's
    // size caps) to a CV_8UC3 RGB image in stored orientation. JPEGs decode at the DCT
    // scale jpeg_scale_eighths(header.stored, cover) / 8; other formats at full size. Transparency
    // is composited over `background`; grayscale becomes 3 equal channels; CMYK/YCCK JPEGs
    // (Adobe-inverted or not) become RGB. Any libjpeg warning fails the image: truncated for a
    // premature end of the data, corrupt otherwise.
    std::optional<ImageFailure> decode(std::span<const std::uint8_t> bytes,
                                       const SourceHeader& header, Size cover, Rgb background,
                                       cv::Mat& rgb);

    // Decodes a JPEG whose header has a chroma_step (YCbCr) to its Y, Cb and Cr planes
    // at the DCT scale decode() would use: no chroma upsampling and no colour conversion,
    // for callers that resample and re-encode YCbCr. Failures as for decode().
    std::optional<ImageFailure> decode_ycbcr(std::span<const std::uint8_t> bytes,
                                             const SourceHeader& header, Size cover,
                                             YcbcrPlanes& ycbcr);

  private:
    void reset_decompressor();
    std::optional<ImageFailure> decode_jpeg(std::span<const std::uint8_t> bytes,
                                            const SourceHeader& header, Size cover, cv::Mat& rgb);

    TurboJpegHandle decompressor_;
    cv::Mat scratch_;  // CMYK or RGBA pixels before conversion
};

// The DCT scale M/8 a JPEG of size `stored` is decoded at so that it covers `cover`:
// the smallest M of 1, 2, 4 and 8 whose decoded size is at least `cover` in both
// dimensions (8 when none smaller is). Only the power-of-two scales are used: their
// reduced IDCTs are SIMD-accelerated in libjpeg-turbo and resample cleanly, while
// 3/8..7/8 cut every 8x8 block's spectrum separately and lost 3-5 dB of PSNR against a
// Lanczos reference on photo-like test images.
int jpeg_scale_eighths(Size stored, Size cover);

// The pixel size of a `stored` JPEG decoded at M/8: ceil(stored * M / 8). When stored
// is not a multiple of 8/M, its last row or column holds a partial block: the image
// proper spans stored * M / 8 (fractional) pixels of it.
Size jpeg_decode_size(Size stored, int eighths);

}  // namespace synshard::image
