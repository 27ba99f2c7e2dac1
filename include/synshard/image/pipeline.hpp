#pragma once

#include <array>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <opencv2/core.hpp>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "synshard/image/box.hpp"
#include "synshard/image/decode.hpp"
#include "synshard/image/geometry.hpp"
#include "synshard/image/jpeg_encoder.hpp"
#include "synshard/image/pixel_stats.hpp"
#include "synshard/image/resample.hpp"

namespace synshard::image {

// How the stored image is written (--encoding).
enum class Encoding {
    jpeg,      // TurboJPEG at --quality, 4:2:0
    png,       // lossless
    raw,       // uint8 HxWx3 RGB, needs a fixed-size geometry
    original,  // the source bytes when they can be kept unchanged, JPEG otherwise
};

std::string_view to_string(Encoding encoding);
// Throws UsageError for anything but jpeg, png, raw, original.
Encoding parse_encoding(std::string_view text);

// Everything the per-image pipeline is configured with; the defaults are the
// command-line defaults.
struct PipelineOptions {
    std::set<SourceFormat> formats{SourceFormat::jpeg, SourceFormat::png};
    int max_side = 16384;
    std::int64_t max_pixels = 100'000'000;
    std::int64_t max_input_bytes = std::int64_t{64} << 20;
    int min_side = 32;
    bool exif_orientation = true;
    Rgb background;  // white
    ResizeSpec resize;
    bool upscale = true;
    Encoding encoding = Encoding::jpeg;
    int quality = 90;
};

// --resize --no-upscale --encoding --quality --formats --max-side --max-pixels
// --max-input-bytes --min-side --no-exif-orientation --background
void add_pipeline_options(boost::program_options::options_description& options);

// The options add_pipeline_options() declared, validated. Throws UsageError naming the
// option (unknown format or encoding, quality outside 1..100, non-positive caps, raw
// without a fixed-size geometry, a background that is not R,G,B or #rrggbb).
PipelineOptions pipeline_options_from(const boost::program_options::variables_map& values);

// Parses "R,G,B" (0..255 each) or "#rrggbb"; throws UsageError otherwise.
Rgb parse_background(std::string_view text);

// One image that made it through.
struct ProcessedImage {
    std::vector<std::uint8_t> data;  // encoded bytes, or HxWx3 RGB for raw
    int source_height = 0;           // after EXIF orientation ("orig_sizes")
    int source_width = 0;
    int height = 0;  // the stored image
    int width = 0;
    Rect content_rect;                       // the image inside the padding (fit:)
    std::vector<Box> boxes;                  // transformed, clipped, in output pixels
    std::vector<std::uint32_t> box_sources;  // index into the input boxes of each kept box
    int boxes_dropped = 0;                   // boxes that vanished in the transform
    bool kept_original_bytes = false;        // Encoding::original kept the source bytes
    SourceFormat source_format = SourceFormat::unknown;
    // Sums of the content's RGB pixels (docs/FORMAT.md, "Stats"): the stored pixels' for
    // raw, png, kept bytes and JPEGs encoded from RGB; for a JPEG made from resized YCbCr
    // planes, those planes' RGB before the lossy encoding (within JPEG's quantization).
    PixelStats pixel_sums;
};

// Where a Pipeline's process() calls spent their time, summed since construction (steady
// clock; a few clock reads per image). decode: format sniffing, header and pixel decode;
// resize: orientation, resampling, crop and padding; stats: the pixel sums; encode: the
// stored bytes. Only images that made it through are counted (a rejection ends its clock
// uncounted).
struct StageTimes {
    double decode_seconds = 0;
    double resize_seconds = 0;
    double stats_seconds = 0;
    double encode_seconds = 0;
    std::uint64_t images = 0;         // process() calls that returned a ProcessedImage
    std::uint64_t source_pixels = 0;  // their stored width x height, before any DCT scaling
};

// Bytes in, a stored image or the reason it was rejected out. One per thread (or rank):
// it holds TurboJPEG handles and scratch buffers reused across images. Output bytes
// depend only on the input bytes, the boxes and the options (bit-exact kernels, one
// OpenCV thread). Peak memory per image is bounded by the caps: the input is at most
// max_input_bytes and no pixel buffer is allocated before the header's dimensions pass
// max_side and max_pixels.
class Pipeline {
  public:
    explicit Pipeline(PipelineOptions options);

    const PipelineOptions& options() const { return options_; }
    const StageTimes& stage_times() const { return stage_times_; }

    // Never throws for bad image bytes: every way an image can be unusable is an
    // ImageFailure with an image reason code (empty, unsupported-format, truncated,
    // corrupt, too-large, too-small).
    std::variant<ProcessedImage, ImageFailure> process(std::span<const std::uint8_t> bytes,
                                                       std::span<const Box> boxes);

    // The RGB pixels (CV_8UC3, height x width) of an image this pipeline stored with
    // `encoding`. Throws Error when the bytes are not such an image.
    cv::Mat decode_stored(std::span<const std::uint8_t> bytes, Encoding encoding, int height,
                          int width);

  private:
    using Clock = std::chrono::steady_clock;
    // Adds the time since `mark` to `seconds` and moves `mark` to now.
    static void lap(double& seconds, Clock::time_point& mark);

    // Decodes to RGB, orients, resamples, crops or pads and stores result.data.
    std::optional<ImageFailure> render(std::span<const std::uint8_t> bytes,
                                       const SourceHeader& header, Size cover, const Layout& layout,
                                       bool keep_original, ProcessedImage& result,
                                       Clock::time_point& mark);
    // Stores in result.data the JPEG of ycbcr_ (an upright YCbCr decode of a `stored`
    // JPEG for `cover`) resampled and cropped to `layout` (no padding), plane by plane, and
    // in result.pixel_sums the sums of the RGB those planes stand for.
    void encode_ycbcr(Size stored, Size cover, const Layout& layout, ProcessedImage& result,
                      Clock::time_point& mark);

    PipelineOptions options_;
    Decoder decoder_;
    JpegEncoder encoder_;
    // Luma's and chroma's, each keeping the weight tables of its own recent sizes; Cb and
    // Cr share one, as they share their geometry (Cr reuses the tables Cb built).
    std::array<Resampler, 2> resamplers_;
    YcbcrPlanes ycbcr_;
    std::array<cv::Mat, 3> planes_;
    cv::Mat decoded_;
    cv::Mat oriented_;
    cv::Mat resized_;
    cv::Mat output_;
    StageTimes stage_times_;
};

}  // namespace synshard::image
