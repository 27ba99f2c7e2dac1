#include "synshard/image/crop_transform.hpp"

// jpeglib.h needs FILE and size_t declared first: crop_transform.hpp's includes do.
#include <jerror.h>
#include <jpeglib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <string>
#include <utility>

#include "synshard/util/error.hpp"

namespace synshard::image {
namespace {

// torchvision's RandomResizedCrop defaults.
constexpr double kMinAreaFraction = 0.08;
constexpr double kMaxAreaFraction = 1.0;
constexpr double kMinRatio = 3.0 / 4.0;
constexpr double kMaxRatio = 4.0 / 3.0;
constexpr double kLogMaxRatio = 0.28768207245178085;  // log(4/3); log(3/4) is its negative
constexpr int kCropTries = 10;

// Python's round() of a non-negative value: to nearest, ties to even (nearbyint in the
// default rounding mode, which nothing in synshard changes).
int round_half_even(double value) {
    return static_cast<int>(std::nearbyint(value));
}

// e^t for |t| <= log(4/3) by its Taylor series: + - * / only, each correctly rounded by
// IEEE 754, so the result (unlike libm's exp) is the same bits on every platform. 18
// terms leave a remainder below 1e-25.
double deterministic_exp(double t) {
    double sum = 1;
    double term = 1;
    for (int k = 1; k <= 18; ++k) {
        term = term * t / k;
        sum += term;
    }
    return sum;
}

void check_inside(CropBox box, int width, int height) {
    if (box.width <= 0 || box.height <= 0 || box.x < 0 || box.y < 0 || box.x > width - box.width ||
        box.y > height - box.height) {
        throw Error("crop box " + std::to_string(box.width) + "x" + std::to_string(box.height) +
                    "+" + std::to_string(box.x) + "+" + std::to_string(box.y) +
                    " is not inside the " + std::to_string(width) + "x" + std::to_string(height) +
                    " image");
    }
}

void check_output(int out_width, int out_height) {
    if (out_width <= 0 || out_height <= 0) {
        throw Error("crop output " + std::to_string(out_width) + "x" + std::to_string(out_height) +
                    " is empty");
    }
}

// Mirrors each row of an RGB HWC image in place.
void mirror_rows(std::uint8_t* pixels, int width, int height) {
    for (int y = 0; y < height; ++y) {
        std::uint8_t* row = pixels + static_cast<std::ptrdiff_t>(y) * width * 3;
        for (int left = 0, right = width - 1; left < right; ++left, --right) {
            std::swap_ranges(row + left * 3, row + left * 3 + 3, row + right * 3);
        }
    }
}

// `region` resampled into `out` (out_height x out_width RGB) with the given maps, then
// mirrored when `flip`.
void resample_into(const cv::Mat& region, AxisMap x, AxisMap y, int out_width, int out_height,
                   bool flip, Resampler& resampler, std::uint8_t* out) {
    cv::Mat target(out_height, out_width, CV_8UC3, out);
    resampler.resample(region, x, y, target);
    if (flip) mirror_rows(out, out_width, out_height);
}

// The header of `encoded`, or why it cannot be read.
std::variant<SourceHeader, ImageFailure> read_any_header(Decoder& decoder,
                                                         std::span<const std::uint8_t> encoded) {
    const SourceFormat format = sniff_format(encoded);
    if (format == SourceFormat::unknown) {
        return ImageFailure{Reason::unsupported_format, "unknown format"};
    }
    return decoder.read_header(encoded, format);
}

// Progressive JPEGs may not spin through endless scans (TurboJPEG's TJFLAG_LIMITSCANS).
constexpr int kMaxScans = 500;

// libjpeg reports errors by longjmp (it is C: an exception may not unwind its frames);
// this is everything the jump needs to leave behind.
struct LibjpegErrors {
    jpeg_error_mgr manager;  // first: libjpeg's pointer to it points to the whole struct
    std::jmp_buf jump;
    std::array<char, JMSG_LENGTH_MAX> message{};
    bool premature_end = false;
};

LibjpegErrors& errors_of(j_common_ptr info) {
    return *reinterpret_cast<LibjpegErrors*>(info->err);
}

[[noreturn]] void libjpeg_fail(j_common_ptr info) {
    (*info->err->format_message)(info, errors_of(info).message.data());
    std::longjmp(errors_of(info).jump, 1);
}

// Any warning fails the image, as TJFLAG_STOPONWARNING does for Decoder.
void libjpeg_message(j_common_ptr info, int level) {
    if (level >= 0) return;  // trace messages
    errors_of(info).premature_end = info->err->msg_code == JWRN_JPEG_EOF;
    libjpeg_fail(info);
}

void limit_scans(j_common_ptr info) {
    const auto* decompress = reinterpret_cast<j_decompress_ptr>(info);
    if (decompress->input_scan_number <= kMaxScans) return;
    std::snprintf(errors_of(info).message.data(), errors_of(info).message.size(),
                  "progressive JPEG with more than %d scans", kMaxScans);
    std::longjmp(errors_of(info).jump, 1);
}

// Whether a JPEG's colours survive a reduced DCT scale as well as its luma: grayscale,
// 4:4:4 and 4:2:0 do (within crop_tolerance()). 4:2:2 and 4:1:1 crops differed from the
// reference by up to 79 (mean 3.9) at reduced scales in the tests, on colour edges:
// libjpeg-turbo scales 4:2:0 chroma up through a larger IDCT, but upsamples chroma
// sampled differently across and down at the reduced size. Those decode at full scale.
bool scales_chroma_cleanly(const jpeg_decompress_struct& info) {
    if (info.num_components == 1) return true;
    if (info.num_components != 3) return false;
    const jpeg_component_info* components = info.comp_info;
    const auto sampled = [components](int c, int horizontal, int vertical) {
        return components[c].h_samp_factor == horizontal && components[c].v_samp_factor == vertical;
    };
    const bool one_chroma_sample = sampled(1, 1, 1) && sampled(2, 1, 1);
    return one_chroma_sample && (sampled(0, 1, 1) || sampled(0, 2, 2));
}

// The decoded pixels [first, last) one axis of a box needs at DCT scale eighths/8, out
// of `length`: the scaled box [start * M / 8, (start + size) * M / 8) rounded outwards,
// and one more pixel each side where the image goes on. libjpeg's fancy upsampling
// treats a cropped row's ends as image edges (libjpeg.txt, "Decompressing partial
// scanlines"), so only that margin decodes the box's own edge pixels as a full decode does.
struct Span {
    int first = 0;
    int last = 0;
};

Span scaled_span(int start, int size, int eighths, int length) {
    return {std::max(0, start * eighths / 8 - 1),
            std::min(length, ((start + size) * eighths + 7) / 8 + 1)};
}

// Where a decoded region lies: its top-left pixel in the image decoded at eighths/8.
struct RegionOrigin {
    int x = 0;
    int y = 0;
    int eighths = 8;
};

// Decodes the pixels of a plain (YCbCr or grayscale) JPEG that `box` resampled to
// out_width x out_height needs into `region` (RGB), through libjpeg's scanline API:
// columns cropped with jpeg_crop_scanline (which moves the start left to an iMCU
// boundary: `origin` says where it landed), rows above skipped with jpeg_skip_scanlines
// (still entropy-decoded, but neither transformed nor upsampled), nothing read below the
// box. False on a libjpeg error or warning, with `errors` saying which. Only plain data
// lives on this frame after setjmp: the longjmp skips no destructor.
bool decode_jpeg_region(jpeg_decompress_struct& info, LibjpegErrors& errors,
                        std::span<const std::uint8_t> encoded, CropBox box, int out_width,
                        int out_height, cv::Mat& region, RegionOrigin& origin) {
    if (setjmp(errors.jump)) {
        jpeg_abort_decompress(&info);
        return false;
    }
    errors.premature_end = false;
    jpeg_mem_src(&info, encoded.data(), static_cast<unsigned long>(encoded.size()));
    jpeg_read_header(&info, TRUE);
    const int eighths =
        scales_chroma_cleanly(info) ? crop_scale_eighths(box, out_width, out_height) : 8;
    info.scale_num = static_cast<unsigned>(eighths);
    info.scale_denom = 8;
    info.dct_method = JDCT_ISLOW;  // as Decoder's TJFLAG_ACCURATEDCT
    info.out_color_space = JCS_RGB;
    jpeg_start_decompress(&info);
    const Span columns =
        scaled_span(box.x, box.width, eighths, static_cast<int>(info.output_width));
    const Span rows = scaled_span(box.y, box.height, eighths, static_cast<int>(info.output_height));
    auto x = static_cast<JDIMENSION>(columns.first);
    auto width = static_cast<JDIMENSION>(columns.last - columns.first);
    if (width < info.output_width) jpeg_crop_scanline(&info, &x, &width);
    region.create(rows.last - rows.first, static_cast<int>(info.output_width), CV_8UC3);
    if (rows.first > 0) jpeg_skip_scanlines(&info, static_cast<JDIMENSION>(rows.first));
    constexpr int kRowsPerCall = 16;
    std::array<JSAMPROW, kRowsPerCall> pointers{};
    while (static_cast<int>(info.output_scanline) < rows.last) {
        const int at = static_cast<int>(info.output_scanline) - rows.first;
        const int count = std::min(kRowsPerCall, region.rows - at);
        for (int i = 0; i < count; ++i) pointers[static_cast<std::size_t>(i)] = region.ptr(at + i);
        jpeg_read_scanlines(&info, pointers.data(), static_cast<JDIMENSION>(count));
    }
    // The rows below the box are never read: abort instead of jpeg_finish_decompress.
    jpeg_abort_decompress(&info);
    origin = {static_cast<int>(x), rows.first, eighths};
    return true;
}

}  // namespace

// libjpeg's decompressor, kept between images (jpeg_abort_decompress readies it again).
struct CropTransformer::Libjpeg {
    jpeg_decompress_struct info{};
    LibjpegErrors errors{};
    jpeg_progress_mgr progress{};

    Libjpeg() {
        info.err = jpeg_std_error(&errors.manager);
        errors.manager.error_exit = libjpeg_fail;
        errors.manager.emit_message = libjpeg_message;
        progress.progress_monitor = limit_scans;
        if (setjmp(errors.jump)) {
            throw Error(std::string("libjpeg: ") + errors.message.data());
        }
        jpeg_create_decompress(&info);
        info.progress = &progress;
    }
    ~Libjpeg() { jpeg_destroy_decompress(&info); }
    Libjpeg(const Libjpeg&) = delete;
    Libjpeg& operator=(const Libjpeg&) = delete;
};

int crop_scale_eighths(CropBox box, int out_width, int out_height) {
    for (const int eighths : {1, 2, 4}) {
        if (box.width * eighths >= 8 * out_width && box.height * eighths >= 8 * out_height) {
            return eighths;
        }
    }
    return 8;
}

CropTolerance crop_tolerance(int eighths) {
    switch (eighths) {
        case 8:
            return {0, 0};
        // Measured at most 56 per value and 6.5 on a crop's mean (4/8-scale crops of the
        // sample output's synthetic photos, whose hard edges the two filters treat most
        // differently; 29 and 2.07 on the tests' eight JPEG kinds).
        default:
            return {64, 8.0};
    }
}

CropBox random_resized_crop_box(int width, int height, Rng& rng) {
    const double area = static_cast<double>(width) * height;
    for (int attempt = 0; attempt < kCropTries; ++attempt) {
        const double target_area =
            area * (kMinAreaFraction + (kMaxAreaFraction - kMinAreaFraction) * rng.unit());
        const double ratio = deterministic_exp(-kLogMaxRatio + 2 * kLogMaxRatio * rng.unit());
        const int crop_width = round_half_even(std::sqrt(target_area * ratio));
        const int crop_height = round_half_even(std::sqrt(target_area / ratio));
        if (crop_width > 0 && crop_width <= width && crop_height > 0 && crop_height <= height) {
            const auto y = static_cast<int>(rng.between(0, height - crop_height));
            const auto x = static_cast<int>(rng.between(0, width - crop_width));
            return {x, y, crop_width, crop_height};
        }
    }
    const double aspect = static_cast<double>(width) / height;
    int crop_width = width;
    int crop_height = height;
    if (aspect < kMinRatio) {
        crop_height = round_half_even(crop_width / kMinRatio);
    } else if (aspect > kMaxRatio) {
        crop_width = round_half_even(crop_height * kMaxRatio);
    }
    return {(width - crop_width) / 2, (height - crop_height) / 2, crop_width, crop_height};
}

CropBox center_crop_box(int width, int height, int resize, int crop) {
    if (crop < 1 || crop > resize) {
        throw Error("center crop " + std::to_string(crop) + " must be 1.." +
                    std::to_string(resize) + " (the resized shorter side)");
    }
    const bool portrait = width <= height;
    const int shorter = portrait ? width : height;
    const int longer = portrait ? height : width;
    // int() truncates, as torchvision's _compute_resized_output_size does.
    const int resized_longer = static_cast<int>(static_cast<double>(resize) * longer / shorter);
    const int resized_width = portrait ? resize : resized_longer;
    const int resized_height = portrait ? resized_longer : resize;
    const int left = round_half_even((resized_width - crop) / 2.0);
    const int top = round_half_even((resized_height - crop) / 2.0);
    // Each axis scales by its own ratio, as the resize does (the longer side was truncated).
    const double scale_x = static_cast<double>(width) / resized_width;
    const double scale_y = static_cast<double>(height) / resized_height;
    const int x = round_half_even(left * scale_x);
    const int y = round_half_even(top * scale_y);
    const int right = std::min(width, round_half_even((left + crop) * scale_x));
    const int bottom = std::min(height, round_half_even((top + crop) * scale_y));
    return {x, y, std::max(1, right - x), std::max(1, bottom - y)};
}

void crop_resize(const cv::Mat& rgb, CropBox box, int out_width, int out_height, bool flip,
                 Resampler& resampler, std::uint8_t* out) {
    check_inside(box, rgb.cols, rgb.rows);
    check_output(out_width, out_height);
    // The ROI makes the resampler repeat the box's edge, not read the pixels beyond it.
    resample_into(rgb(cv::Rect(box.x, box.y, box.width, box.height)),
                  {static_cast<double>(box.width) / out_width, 0},
                  {static_cast<double>(box.height) / out_height, 0}, out_width, out_height, flip,
                  resampler, out);
}

std::optional<ImageFailure> reference_decode_crop_resize(std::span<const std::uint8_t> encoded,
                                                         CropBox box, int out_width, int out_height,
                                                         bool flip, std::uint8_t* out,
                                                         Decoder& decoder, Resampler& resampler,
                                                         cv::Mat& scratch) {
    auto header = read_any_header(decoder, encoded);
    if (auto* failure = std::get_if<ImageFailure>(&header)) return std::move(*failure);
    const auto& source = std::get<SourceHeader>(header);
    check_inside(box, source.stored.width, source.stored.height);
    check_output(out_width, out_height);
    // Covering the stored size asks for the full-size decode.
    if (auto failure = decoder.decode(encoded, source, source.stored, Rgb{}, scratch)) {
        return failure;
    }
    crop_resize(scratch, box, out_width, out_height, flip, resampler, out);
    return std::nullopt;
}

CropTransformer::CropTransformer() : libjpeg_(std::make_unique<Libjpeg>()) {}
CropTransformer::~CropTransformer() = default;
CropTransformer::CropTransformer(CropTransformer&&) noexcept = default;
CropTransformer& CropTransformer::operator=(CropTransformer&&) noexcept = default;

std::variant<Size, ImageFailure> CropTransformer::read_size(std::span<const std::uint8_t> encoded) {
    auto header = read_any_header(decoder_, encoded);
    if (auto* failure = std::get_if<ImageFailure>(&header)) return std::move(*failure);
    return std::get<SourceHeader>(header).stored;
}

std::optional<ImageFailure> CropTransformer::decode_crop_resize(
    std::span<const std::uint8_t> encoded, CropBox box, int out_width, int out_height, bool flip,
    std::uint8_t* out) {
    auto read = read_any_header(decoder_, encoded);
    if (auto* failure = std::get_if<ImageFailure>(&read)) return std::move(*failure);
    const auto& header = std::get<SourceHeader>(read);
    // CMYK, arithmetic-coded, 12-bit and other rare JPEGs take the reference path.
    if (header.format != SourceFormat::jpeg || !header.plain) {
        return reference_decode_crop_resize(encoded, box, out_width, out_height, flip, out,
                                            decoder_, resampler_, decoded_);
    }
    check_inside(box, header.stored.width, header.stored.height);
    check_output(out_width, out_height);
    RegionOrigin origin;
    if (!decode_jpeg_region(libjpeg_->info, libjpeg_->errors, encoded, box, out_width, out_height,
                            decoded_, origin)) {
        const std::string detail = std::string("JPEG: ") + libjpeg_->errors.message.data();
        return ImageFailure{libjpeg_->errors.premature_end ? Reason::truncated : Reason::corrupt,
                            detail};
    }
    // The box in the region's pixels: fractional at a reduced DCT scale, where the image
    // spans stored * M / 8 pixels. The resampler reads the whole pixels it touches, and
    // repeats their edge as crop_resize() repeats the box's.
    const double scale = origin.eighths / 8.0;
    const double left = box.x * scale - origin.x;
    const double top = box.y * scale - origin.y;
    const double width = box.width * scale;
    const double height = box.height * scale;
    const int first_column = static_cast<int>(left);
    const int first_row = static_cast<int>(top);
    const int columns =
        std::min(decoded_.cols, static_cast<int>(std::ceil(left + width))) - first_column;
    const int rows = std::min(decoded_.rows, static_cast<int>(std::ceil(top + height))) - first_row;
    resample_into(decoded_(cv::Rect(first_column, first_row, columns, rows)),
                  {width / out_width, left - first_column}, {height / out_height, top - first_row},
                  out_width, out_height, flip, resampler_, out);
    return std::nullopt;
}

}  // namespace synshard::image
