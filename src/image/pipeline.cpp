#include "synshard/image/pipeline.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "synshard/util/error.hpp"
#include "synshard/util/option_values.hpp"

namespace synshard::image {
namespace {

namespace po = boost::program_options;

// The decoders take an input's size as int.
constexpr std::int64_t kMaxInputBytes = std::numeric_limits<int>::max();

constexpr std::array<std::pair<Encoding, std::string_view>, 4> kEncodingNames{{
    {Encoding::jpeg, "jpeg"},
    {Encoding::png, "png"},
    {Encoding::raw, "raw"},
    {Encoding::original, "original"},
}};

std::set<SourceFormat> parse_formats(std::string_view text) {
    std::set<SourceFormat> formats;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const auto name = text.substr(0, comma);
        const auto format = parse_source_format(name);
        if (!format) {
            throw UsageError("--formats: unknown format '" + std::string(name) +
                             "' (expected jpeg, png, webp, bmp)");
        }
        formats.insert(*format);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    }
    if (formats.empty()) throw UsageError("--formats: name at least one format");
    return formats;
}

// The first bytes of something that is not an image we read, for the detail text.
std::string describe_signature(std::span<const std::uint8_t> bytes) {
    std::string text = "unrecognised signature";
    for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 8); ++i) {
        std::array<char, 4> hex{};
        std::snprintf(hex.data(), hex.size(), " %02x", bytes[i]);
        text += hex.data();
    }
    return text;
}

// The upright image: `in` itself for orientation 1, else turned into `scratch`.
const cv::Mat& orient(const cv::Mat& in, int orientation, cv::Mat& scratch) {
    switch (orientation) {
        case 2:
            cv::flip(in, scratch, 1);
            break;
        case 3:
            cv::rotate(in, scratch, cv::ROTATE_180);
            break;
        case 4:
            cv::flip(in, scratch, 0);
            break;
        case 5:
            cv::transpose(in, scratch);
            break;
        case 6:
            cv::rotate(in, scratch, cv::ROTATE_90_CLOCKWISE);
            break;
        case 7:
            cv::transpose(in, scratch);
            cv::flip(scratch, scratch, -1);
            break;
        case 8:
            cv::rotate(in, scratch, cv::ROTATE_90_COUNTERCLOCKWISE);
            break;
        default:
            return in;
    }
    return scratch;
}

// `in` resampled to `size` into `scratch` (or `in` itself when nothing changes). A
// DCT-scaled decode holds the image in its first extent_width x extent_height pixels
// (fractional when the source is not a multiple of the block size). Every kernel used
// is bit-exact across OpenCV's optimised and plain code paths (fixed-point tables).
const cv::Mat& resample(const cv::Mat& in, bool dct_scaled, double extent_width,
                        double extent_height, Size size, cv::Mat& scratch) {
    const cv::Size target(size.width, size.height);
    const double ratio_x = extent_width / size.width;
    const double ratio_y = extent_height / size.height;
    if (!dct_scaled) {
        if (in.cols == size.width && in.rows == size.height) return in;
        // Area averaging on downscale (no aliasing), as the plain OpenCV path does.
        const bool enlarging = ratio_x < 1 && ratio_y < 1;
        cv::resize(in, scratch, target, 0, 0, enlarging ? cv::INTER_CUBIC : cv::INTER_AREA);
    } else if (ratio_x < 2 && ratio_y < 2) {
        // Less than 2x to go: bicubic with the exact, possibly fractional, mapping. (Area
        // averaging at these ratios blurs: 3 dB below the plain path in the tests.)
        const cv::Matx23d map(ratio_x, 0, 0.5 * ratio_x - 0.5, 0, ratio_y, 0.5 * ratio_y - 0.5);
        cv::warpAffine(in, scratch, map, target, cv::INTER_CUBIC | cv::WARP_INVERSE_MAP,
                       cv::BORDER_REPLICATE);
    } else {
        // Only a 1/8 decode is still 2x the target or more: area averaging over the
        // whole decode, whose partial last block (under one decoded pixel) shifts
        // content by at most half an output pixel at the far edge.
        cv::resize(in, scratch, target, 0, 0, cv::INTER_AREA);
    }
    return scratch;
}

cv::Rect to_cv(const Rect& rect) {
    return {rect.x, rect.y, rect.width, rect.height};
}

ImageFailure too_large(std::string detail) {
    return {Reason::too_large, std::move(detail)};
}

}  // namespace

std::string_view to_string(Encoding encoding) {
    return kEncodingNames[static_cast<std::size_t>(encoding)].second;
}

Encoding parse_encoding(std::string_view text) {
    for (const auto& [encoding, name] : kEncodingNames) {
        if (name == text) return encoding;
    }
    throw UsageError("--encoding " + std::string(text) + ": expected jpeg, png, raw or original");
}

Rgb parse_background(std::string_view text) {
    const auto bad = [&] {
        return UsageError("--background " + std::string(text) +
                          ": expected R,G,B (0..255 each) or #rrggbb");
    };
    std::array<int, 3> channels{};
    if (text.size() == 7 && text[0] == '#') {
        for (std::size_t c = 0; c < 3; ++c) {
            const char* begin = text.data() + 1 + 2 * c;
            const auto [end, error] = std::from_chars(begin, begin + 2, channels[c], 16);
            if (error != std::errc() || end != begin + 2) throw bad();
        }
    } else {
        std::string_view rest = text;
        for (std::size_t c = 0; c < 3; ++c) {
            const auto comma = rest.find(',');
            if ((comma == std::string_view::npos) != (c == 2)) throw bad();
            const auto part = rest.substr(0, comma);
            const auto [end, error] =
                std::from_chars(part.data(), part.data() + part.size(), channels[c]);
            if (error != std::errc() || end != part.data() + part.size() || channels[c] < 0 ||
                channels[c] > 255) {
                throw bad();
            }
            if (comma != std::string_view::npos) rest = rest.substr(comma + 1);
        }
    }
    return {static_cast<std::uint8_t>(channels[0]), static_cast<std::uint8_t>(channels[1]),
            static_cast<std::uint8_t>(channels[2])};
}

void add_pipeline_options(po::options_description& options) {
    const PipelineOptions defaults;
    options.add_options()  //
        ("resize",
         po::value<std::string>()
             ->default_value(to_string(defaults.resize))
             ->value_name("GEOMETRY"),
         "geometry: shorter:N, crop:N, fixed:WxH, fit:WxH, longer:N or none")  //
        ("no-upscale", switch_value(),
         "keep images smaller than the geometry's target as they are")  //
        ("encoding", po::value<std::string>()->default_value("jpeg")->value_name("NAME"),
         "stored bytes: jpeg, png, raw (HxWx3 uint8; needs crop, fixed or fit) or original")  //
        ("quality", bounded_value<int>(1, 100)->default_value(defaults.quality)->value_name("Q"),
         "JPEG quality (1..100)")  //
        ("formats", po::value<std::string>()->default_value("jpeg,png")->value_name("LIST"),
         "source formats accepted (told by content): jpeg, png, webp, bmp")  //
        ("max-side", bounded_value<int>(1)->default_value(defaults.max_side)->value_name("PX"),
         "reject images with a longer side (too-large), decided from the header (1 or more)")  //
        ("max-pixels",
         bounded_value<std::int64_t>(1)->default_value(defaults.max_pixels)->value_name("N"),
         "reject images with more pixels (too-large), decided from the header (1 or more)")  //
        ("max-input-bytes",
         bounded_value<std::int64_t>(1, kMaxInputBytes)
             ->default_value(defaults.max_input_bytes)
             ->value_name("B"),
         "reject larger files (too-large) (1..2147483647)")  //
        ("min-side", bounded_value<int>(0)->default_value(defaults.min_side)->value_name("PX"),
         "reject images whose shorter side is smaller (too-small) (0 or more)")  //
        ("no-exif-orientation", switch_value(),
         "store pixels as stored, ignoring EXIF orientation")  //
        ("background", po::value<std::string>()->default_value("255,255,255")->value_name("COLOR"),
         "R,G,B or #rrggbb behind transparency and fit: padding");
}

PipelineOptions pipeline_options_from(const po::variables_map& values) {
    PipelineOptions options;
    options.resize = parse_resize(values["resize"].as<std::string>());
    options.upscale = !values["no-upscale"].as<bool>();
    options.encoding = parse_encoding(values["encoding"].as<std::string>());
    options.quality = values["quality"].as<int>();
    options.formats = parse_formats(values["formats"].as<std::string>());
    options.max_side = values["max-side"].as<int>();
    options.max_pixels = values["max-pixels"].as<std::int64_t>();
    options.max_input_bytes = values["max-input-bytes"].as<std::int64_t>();
    options.min_side = values["min-side"].as<int>();
    options.exif_orientation = !values["no-exif-orientation"].as<bool>();
    options.background = parse_background(values["background"].as<std::string>());
    if (options.encoding == Encoding::raw && !has_fixed_output(options.resize, options.upscale)) {
        throw UsageError(
            "--encoding raw needs every image the same size: use --resize "
            "crop:N, fixed:WxH or fit:WxH (and no --no-upscale unless fit:), not " +
            to_string(options.resize));
    }
    return options;
}

Pipeline::Pipeline(PipelineOptions options) : options_(std::move(options)) {
    // One thread per rank; the work is spread by ranks, not by OpenCV.
    cv::setNumThreads(1);
}

void Pipeline::lap(double& seconds, Clock::time_point& mark) {
    const auto now = Clock::now();
    seconds += std::chrono::duration<double>(now - mark).count();
    mark = now;
}

std::variant<ProcessedImage, ImageFailure> Pipeline::process(std::span<const std::uint8_t> bytes,
                                                             std::span<const Box> boxes) {
    auto mark = Clock::now();
    if (bytes.empty()) return ImageFailure{Reason::empty, "0 bytes"};
    if (static_cast<std::int64_t>(bytes.size()) > options_.max_input_bytes) {
        return too_large(std::to_string(bytes.size()) + " bytes exceeds --max-input-bytes " +
                         std::to_string(options_.max_input_bytes));
    }
    const SourceFormat format = sniff_format(bytes);
    if (format == SourceFormat::unknown) {
        return ImageFailure{Reason::unsupported_format, describe_signature(bytes)};
    }
    if (!options_.formats.contains(format)) {
        return ImageFailure{Reason::unsupported_format,
                            std::string(to_string(format)) + " is not among --formats"};
    }
    auto read = decoder_.read_header(bytes, format);
    if (auto* failure = std::get_if<ImageFailure>(&read)) return std::move(*failure);
    SourceHeader header = std::get<SourceHeader>(read);
    if (!options_.exif_orientation) header.orientation = 1;
    const Size stored = header.stored;
    const std::string dimensions =
        std::to_string(stored.width) + "x" + std::to_string(stored.height);
    if (stored.width > options_.max_side || stored.height > options_.max_side) {
        return too_large(dimensions + " exceeds --max-side " + std::to_string(options_.max_side));
    }
    if (std::int64_t{stored.width} * stored.height > options_.max_pixels) {
        return too_large(dimensions + " exceeds --max-pixels " +
                         std::to_string(options_.max_pixels));
    }
    if (std::min(stored.width, stored.height) < options_.min_side) {
        return ImageFailure{Reason::too_small, dimensions + " is under --min-side " +
                                                   std::to_string(options_.min_side)};
    }

    const Size source = oriented_size(stored, header.orientation);
    const Layout layout = plan_layout(source, options_.resize, options_.upscale);
    const bool unchanged =
        header.orientation == 1 && layout.scaled == source && layout.output == source;
    const bool keep_original = options_.encoding == Encoding::original && header.plain && unchanged;
    const Size cover = oriented_size(layout.scaled, header.orientation);
    ProcessedImage result;
    result.source_format = format;
    result.source_width = source.width;
    result.source_height = source.height;
    result.width = layout.output.width;
    result.height = layout.output.height;
    result.content_rect = layout.content;
    // A YCbCr JPEG stored as JPEG without turning or padding goes plane by plane: no
    // chroma upsampling, colour conversion or chroma downsampling, and a third of the
    // resampling at full resolution.
    const bool stored_as_jpeg = options_.encoding == Encoding::jpeg ||
                                (options_.encoding == Encoding::original && !keep_original);
    if (stored_as_jpeg && header.chroma_step != Size{} && header.orientation == 1 &&
        layout.content == Rect{0, 0, layout.output.width, layout.output.height}) {
        if (auto failure = decoder_.decode_ycbcr(bytes, header, cover, ycbcr_)) {
            return std::move(*failure);
        }
        lap(stage_times_.decode_seconds, mark);
        encode_ycbcr(stored, cover, layout, result, mark);
    } else if (auto failure = render(bytes, header, cover, layout, keep_original, result, mark)) {
        return std::move(*failure);
    }
    ++stage_times_.images;
    stage_times_.source_pixels +=
        static_cast<std::uint64_t>(stored.width) * static_cast<std::uint64_t>(stored.height);

    for (std::size_t i = 0; i < boxes.size(); ++i) {
        if (auto box = transform_box(boxes[i], stored, header.orientation, layout)) {
            result.boxes.push_back(*box);
            result.box_sources.push_back(static_cast<std::uint32_t>(i));
        } else {
            ++result.boxes_dropped;
        }
    }
    return result;
}

std::optional<ImageFailure> Pipeline::render(std::span<const std::uint8_t> bytes,
                                             const SourceHeader& header, Size cover,
                                             const Layout& layout, bool keep_original,
                                             ProcessedImage& result, Clock::time_point& mark) {
    if (auto failure = decoder_.decode(bytes, header, cover, options_.background, decoded_)) {
        return failure;
    }
    lap(stage_times_.decode_seconds, mark);
    const cv::Mat& upright = orient(decoded_, header.orientation, oriented_);
    // A DCT-scaled JPEG decode holds the image in its first source * M / 8 pixels.
    const int eighths =
        header.format == SourceFormat::jpeg ? jpeg_scale_eighths(header.stored, cover) : 8;
    const double scale = eighths / 8.0;
    const Size source = oriented_size(header.stored, header.orientation);
    const cv::Mat& scaled = resample(upright, eighths < 8, source.width * scale,
                                     source.height * scale, layout.scaled, resized_);
    const cv::Mat* image = &scaled;
    if (!(layout.output == layout.scaled && layout.crop == layout.content)) {
        const Rgb& background = options_.background;
        output_.create(layout.output.height, layout.output.width, CV_8UC3);
        output_.setTo(cv::Scalar(background.red, background.green, background.blue));
        scaled(to_cv(layout.crop)).copyTo(output_(to_cv(layout.content)));
        image = &output_;
    }

    lap(stage_times_.resize_seconds, mark);
    const std::span<const std::uint8_t> pixels(image->data, image->total() * image->elemSize());
    if (keep_original) {
        result.data.assign(bytes.begin(), bytes.end());
        result.kept_original_bytes = true;
    } else if (options_.encoding == Encoding::raw) {
        result.data.assign(pixels.begin(), pixels.end());
    } else if (options_.encoding == Encoding::png) {
        cv::Mat bgr;
        cv::cvtColor(*image, bgr, cv::COLOR_RGB2BGR);
        if (!cv::imencode(".png", bgr, result.data, {cv::IMWRITE_PNG_COMPRESSION, 6})) {
            throw Error("PNG encode failed");
        }
    } else {
        result.data = encoder_.encode(pixels, result.width, result.height, PixelLayout::rgb,
                                      {options_.quality, ChromaSubsampling::s420, false});
    }
    lap(stage_times_.encode_seconds, mark);
    // Raw, PNG and kept bytes store these very pixels. A JPEG encoded from RGB (padded,
    // turned or non-YCbCr sources) subsamples its chroma from them in a way no sum over
    // them predicts (a std up to ~5 apart on small padded images), so its sums are taken
    // from the stored bytes decoded, as a reader gets them.
    const bool stores_these_pixels =
        keep_original || options_.encoding == Encoding::raw || options_.encoding == Encoding::png;
    result.pixel_sums =
        stores_these_pixels
            ? pixel_stats(*image, layout.content)
            : pixel_stats(decode_stored(result.data, Encoding::jpeg, result.height, result.width),
                          layout.content);
    lap(stage_times_.stats_seconds, mark);
    return std::nullopt;
}

void Pipeline::encode_ycbcr(Size stored, Size cover, const Layout& layout, ProcessedImage& result,
                            Clock::time_point& mark) {
    // The decoded planes hold the image in their first stored * M / 8 luma pixels.
    const double scale = jpeg_scale_eighths(stored, cover) / 8.0;
    const double ratio_x = stored.width * scale / layout.scaled.width;
    const double ratio_y = stored.height * scale / layout.scaled.height;
    std::array<const std::uint8_t*, 3> planes{};
    std::array<int, 3> strides{};
    for (std::size_t c = 0; c < 3; ++c) {
        // Output plane coordinate u is output pixel u * out_step, scaled-image pixel
        // u * out_step + crop.x, source pixel that times the ratio, source plane
        // coordinate that over the source's step.
        const int out_step = c == 0 ? 1 : 2;
        const Size in_step = c == 0 ? Size{1, 1} : ycbcr_.chroma_step;
        // TurboJPEG reads the luma plane padded to whole chroma samples: the padding
        // continues the resampling, so it is deterministic too.
        const int rows = (layout.output.height + 1) / 2 * (c == 0 ? 2 : 1);
        const int columns = (layout.output.width + 1) / 2 * (c == 0 ? 2 : 1);
        cv::Mat& plane = planes_[c];
        plane.create(rows, columns, CV_8UC1);
        resamplers_[std::min<std::size_t>(c, 1)].resample(
            ycbcr_.planes[c],
            {out_step * ratio_x / in_step.width, layout.crop.x * ratio_x / in_step.width},
            {out_step * ratio_y / in_step.height, layout.crop.y * ratio_y / in_step.height}, plane);
        planes[c] = plane.data;
        strides[c] = static_cast<int>(plane.step);
    }
    lap(stage_times_.resize_seconds, mark);
    result.pixel_sums = ycbcr420_pixel_stats(planes_, layout.output);
    lap(stage_times_.stats_seconds, mark);
    result.data = encoder_.encode_ycbcr420(planes, strides, layout.output.width,
                                           layout.output.height, options_.quality);
    lap(stage_times_.encode_seconds, mark);
}

cv::Mat Pipeline::decode_stored(std::span<const std::uint8_t> bytes, Encoding encoding, int height,
                                int width) {
    const std::string what = "stored " + std::string(to_string(encoding)) + " image " +
                             std::to_string(width) + "x" + std::to_string(height);
    if (encoding == Encoding::raw) {
        if (height <= 0 || width <= 0 ||
            bytes.size() !=
                static_cast<std::size_t>(height) * static_cast<std::size_t>(width) * 3) {
            throw Error(what + ": " + std::to_string(bytes.size()) + " bytes");
        }
        cv::Mat rgb(height, width, CV_8UC3);
        std::copy(bytes.begin(), bytes.end(), rgb.data);
        return rgb;
    }
    const SourceFormat format = sniff_format(bytes);
    if (format != SourceFormat::jpeg && format != SourceFormat::png) {
        throw Error(what + ": neither JPEG nor PNG bytes");
    }
    auto read = decoder_.read_header(bytes, format);
    if (auto* failure = std::get_if<ImageFailure>(&read))
        throw Error(what + ": " + failure->detail);
    const SourceHeader& header = std::get<SourceHeader>(read);
    if (header.stored != Size{width, height}) {
        throw Error(what + ": the bytes hold " + std::to_string(header.stored.width) + "x" +
                    std::to_string(header.stored.height));
    }
    cv::Mat rgb;
    if (auto failure = decoder_.decode(bytes, header, header.stored, options_.background, rgb)) {
        throw Error(what + ": " + failure->detail);
    }
    return rgb;
}

}  // namespace synshard::image
