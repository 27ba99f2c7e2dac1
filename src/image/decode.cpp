#include "synshard/image/decode.hpp"

#include <libexif/exif-data.h>
#include <png.h>
#include <turbojpeg.h>
#include <webp/decode.h>

#include <algorithm>
#include <array>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "synshard/util/error.hpp"

namespace synshard::image {
namespace {

using Bytes = std::span<const std::uint8_t>;

bool starts_with(Bytes bytes, std::string_view prefix, std::size_t offset = 0) {
    return bytes.size() >= offset + prefix.size() &&
           std::memcmp(bytes.data() + offset, prefix.data(), prefix.size()) == 0;
}

std::uint32_t big_endian32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           p[3];
}

std::uint32_t little_endian32(const std::uint8_t* p) {
    return (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) |
           p[0];
}

std::uint16_t little_endian16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

constexpr std::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);
// What libexif expects in front of the TIFF structure, as in a JPEG APP1 segment.
constexpr std::string_view kExifHeader("Exif\0\0", 6);

ImageFailure truncated(std::string detail) {
    return {Reason::truncated, std::move(detail)};
}
ImageFailure corrupt(std::string detail) {
    return {Reason::corrupt, std::move(detail)};
}

// EXIF orientation from an APP1-style payload ("Exif\0\0" + TIFF); 1 when absent or
// out of range.
int exif_orientation(Bytes payload) {
    ExifData* data = exif_data_new_from_data(payload.data(), static_cast<unsigned>(payload.size()));
    if (data == nullptr) return 1;
    int orientation = 1;
    ExifEntry* entry = exif_content_get_entry(data->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
    if (entry != nullptr && entry->format == EXIF_FORMAT_SHORT && entry->components >= 1 &&
        entry->data != nullptr && entry->size >= 2) {
        orientation = exif_get_short(entry->data, exif_data_get_byte_order(data));
    }
    exif_data_unref(data);
    return orientation >= 1 && orientation <= 8 ? orientation : 1;
}

// What the marker segments in front of a JPEG's first scan tell.
struct JpegMarkers {
    Bytes exif;              // APP1 payload starting with "Exif\0\0", empty when absent
    bool adobe = false;      // an APP14 "Adobe" segment: CMYK values are stored inverted
    int frame = -1;          // the SOFn marker (0xc0 baseline, 0xc2 progressive, ...)
    bool cut_short = false;  // the bytes end before the first scan's header does
};

JpegMarkers scan_jpeg_markers(Bytes bytes) {
    JpegMarkers markers;
    std::size_t offset = 2;  // after SOI
    while (true) {
        if (offset + 4 > bytes.size()) {
            markers.cut_short = true;
            break;
        }
        if (bytes[offset] != 0xff) break;
        const std::uint8_t marker = bytes[offset + 1];
        if (marker == 0xff) {  // fill byte
            ++offset;
            continue;
        }
        if (marker == 0xd9) break;  // EOI
        const std::size_t length = (std::size_t{bytes[offset + 2]} << 8) | bytes[offset + 3];
        if (length < 2) break;
        if (offset + 2 + length > bytes.size()) {
            markers.cut_short = true;
            break;
        }
        if (marker == 0xda) break;  // SOS: entropy-coded data follows
        const Bytes payload = bytes.subspan(offset + 4, length - 2);
        if (marker == 0xe1 && markers.exif.empty() && starts_with(payload, kExifHeader)) {
            markers.exif = payload;
        } else if (marker == 0xee && starts_with(payload, "Adobe")) {
            markers.adobe = true;
        } else if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
                   marker != 0xcc && markers.frame < 0) {
            markers.frame = marker;
        }
        offset += 2 + length;
    }
    return markers;
}

ImageFailure jpeg_failure(void* handle) {
    const std::string message = tjGetErrorStr2(handle);
    // libjpeg's JWRN_JPEG_EOF; every other warning or error is damage.
    if (message.find("Premature end") != std::string::npos) return truncated("JPEG: " + message);
    return corrupt("JPEG: " + message);
}

std::variant<SourceHeader, ImageFailure> read_jpeg_header(void* handle, Bytes bytes) {
    int width = 0;
    int height = 0;
    int subsampling = TJSAMP_444;  // stays so when libjpeg cannot read the header
    int colorspace = 0;
    const int status = tjDecompressHeader3(handle, bytes.data(), bytes.size(), &width, &height,
                                           &subsampling, &colorspace);
    // TurboJPEG 2.1 names six subsamplings and fails every other legal one ("Could not
    // determine subsampling type": 4:1:0, Cb sampled unlike Cr, ...) after libjpeg has
    // read the whole header and every field is filled in. tjDecompress2 decodes those
    // like any JPEG (libjpeg upsamples any factors), and any warning in the header fails
    // that decode, so such a header is taken as it is.
    const bool unnamed_subsampling = status != 0 && subsampling < 0 && colorspace >= 0;
    // TurboJPEG reads a tables-only stream (or one cut before its frame) as 0x0.
    if ((status != 0 && !unnamed_subsampling) || width <= 0 || height <= 0) {
        // libjpeg pads a short header with a fake EOI and reports whatever that breaks,
        // so whether the header is complete is told from the marker segments.
        const std::string message = status != 0 ? tjGetErrorStr2(handle) : "no frame header";
        if (scan_jpeg_markers(bytes).cut_short) return truncated("JPEG header: " + message);
        return corrupt("JPEG header: " + message);
    }
    const JpegMarkers markers = scan_jpeg_markers(bytes);
    SourceHeader header{SourceFormat::jpeg, {width, height}, 1, false};
    if (!markers.exif.empty()) header.orientation = exif_orientation(markers.exif);
    header.plain = (colorspace == TJCS_YCbCr || colorspace == TJCS_GRAY) &&
                   (markers.frame == 0xc0 || markers.frame == 0xc2);
    header.cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
    header.inverted_cmyk = header.cmyk && markers.adobe;
    if (colorspace == TJCS_YCbCr && subsampling >= 0 && subsampling < TJ_NUMSAMP &&
        subsampling != TJSAMP_GRAY) {
        header.chroma_step = {tjMCUWidth[subsampling] / 8, tjMCUHeight[subsampling] / 8};
    }
    return header;
}

// The chunks of a PNG up to its first IDAT.
std::variant<SourceHeader, ImageFailure> read_png_header(Bytes bytes) {
    // Signature, IHDR length and type, 13 bytes of IHDR, CRC.
    if (bytes.size() < 33) return truncated("PNG: file ends inside the IHDR chunk");
    if (!starts_with(bytes, std::string_view("\0\0\0\x0dIHDR", 8), 8)) {
        return corrupt("PNG: the first chunk is not a 13-byte IHDR");
    }
    const std::uint32_t width = big_endian32(bytes.data() + 16);
    const std::uint32_t height = big_endian32(bytes.data() + 20);
    if (width == 0 || height == 0 || width > 0x7fffffff || height > 0x7fffffff) {
        return corrupt("PNG: IHDR declares " + std::to_string(width) + "x" +
                       std::to_string(height));
    }
    const int bit_depth = bytes[24];
    const int color_type = bytes[25];
    SourceHeader header{
        SourceFormat::png, {static_cast<int>(width), static_cast<int>(height)}, 1, false};
    bool transparency = (color_type & 4) != 0;
    std::size_t offset = 33;
    while (true) {
        if (offset + 8 > bytes.size()) return truncated("PNG: file ends before the image data");
        const std::uint32_t length = big_endian32(bytes.data() + offset);
        if (length > 0x7fffffff) return corrupt("PNG: chunk length out of range");
        const Bytes type = bytes.subspan(offset + 4, 4);
        if (starts_with(type, "IDAT")) break;
        if (offset + 12 + length > bytes.size()) {
            return truncated("PNG: file ends before the image data");
        }
        if (starts_with(type, "tRNS")) transparency = true;
        if (starts_with(type, "eXIf")) {
            std::vector<std::uint8_t> exif(kExifHeader.begin(), kExifHeader.end());
            exif.insert(exif.end(), bytes.begin() + static_cast<std::ptrdiff_t>(offset + 8),
                        bytes.begin() + static_cast<std::ptrdiff_t>(offset + 8 + length));
            header.orientation = exif_orientation(exif);
        }
        offset += 12 + length;
    }
    header.plain = bit_depth == 8 && (color_type == 0 || color_type == 2) && !transparency;
    header.transparency = transparency;
    return header;
}

std::variant<SourceHeader, ImageFailure> read_webp_header(Bytes bytes) {
    WebPBitstreamFeatures features;
    const VP8StatusCode status = WebPGetFeatures(bytes.data(), bytes.size(), &features);
    if (status == VP8_STATUS_NOT_ENOUGH_DATA) return truncated("WebP: file ends inside the header");
    if (status != VP8_STATUS_OK) return corrupt("WebP: unreadable header");
    if (features.has_animation) return ImageFailure{Reason::unsupported_format, "animated WebP"};
    return SourceHeader{
        SourceFormat::webp, {features.width, features.height}, 1, false, features.has_alpha != 0};
}

std::variant<SourceHeader, ImageFailure> read_bmp_header(Bytes bytes) {
    if (bytes.size() < 26) return truncated("BMP: file ends inside the header");
    const std::uint32_t info_size = little_endian32(bytes.data() + 14);
    std::int64_t width = 0;
    std::int64_t height = 0;
    int bits = 0;
    std::uint32_t compression = 0;
    if (info_size == 12) {  // OS/2 BITMAPCOREHEADER
        width = little_endian16(bytes.data() + 18);
        height = little_endian16(bytes.data() + 20);
        bits = little_endian16(bytes.data() + 24);
    } else if (info_size >= 40) {
        if (bytes.size() < 54) return truncated("BMP: file ends inside the header");
        width = static_cast<std::int32_t>(little_endian32(bytes.data() + 18));
        height = static_cast<std::int32_t>(little_endian32(bytes.data() + 22));
        bits = little_endian16(bytes.data() + 28);
        compression = little_endian32(bytes.data() + 30);
    } else {
        return corrupt("BMP: unknown header size " + std::to_string(info_size));
    }
    height = std::abs(height);  // negative: stored top-down
    if (width <= 0 || height <= 0 || width > 0x7fffffff || height > 0x7fffffff) {
        return corrupt("BMP: header declares " + std::to_string(width) + "x" +
                       std::to_string(height));
    }
    if (bits != 1 && bits != 4 && bits != 8 && bits != 16 && bits != 24 && bits != 32) {
        return corrupt("BMP: " + std::to_string(bits) + " bits per pixel");
    }
    constexpr std::uint32_t kUncompressed = 0;
    constexpr std::uint32_t kBitfields = 3;
    if (compression > kBitfields) {  // embedded JPEG/PNG and other rarities
        return ImageFailure{Reason::unsupported_format,
                            "BMP compression " + std::to_string(compression)};
    }
    if (compression == kUncompressed || compression == kBitfields) {
        const std::uint64_t stride = (static_cast<std::uint64_t>(width) * bits + 31) / 32 * 4;
        const std::uint64_t pixel_offset = little_endian32(bytes.data() + 10);
        if (pixel_offset > bytes.size() ||
            static_cast<std::uint64_t>(height) > (bytes.size() - pixel_offset) / stride) {
            return truncated("BMP: file ends inside the pixel data");
        }
    }
    return SourceHeader{
        SourceFormat::bmp, {static_cast<int>(width), static_cast<int>(height)}, 1, false};
}

// RGBA (or BGRA when `bgr`) over an opaque background; integer and exact.
void composite(const cv::Mat& four, Rgb background, bool bgr, cv::Mat& rgb) {
    rgb.create(four.rows, four.cols, CV_8UC3);
    const std::array<int, 3> back{background.red, background.green, background.blue};
    for (int y = 0; y < four.rows; ++y) {
        const std::uint8_t* in = four.ptr<std::uint8_t>(y);
        std::uint8_t* out = rgb.ptr<std::uint8_t>(y);
        for (int x = 0; x < four.cols; ++x, in += 4, out += 3) {
            const int alpha = in[3];
            for (int c = 0; c < 3; ++c) {
                const int value = in[bgr ? 2 - c : c];
                out[c] = static_cast<std::uint8_t>(
                    (value * alpha + back[static_cast<std::size_t>(c)] * (255 - alpha) + 127) /
                    255);
            }
        }
    }
}

// libpng reports errors by longjmp; this is everything the jump needs to leave behind.
struct PngSource {
    Bytes bytes;
    std::size_t offset = 0;
    bool ran_out = false;
    std::array<char, 200> message{};
};

void png_read_from_source(png_structp png, png_bytep out, std::size_t length) {
    auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
    if (length > source->bytes.size() - source->offset) {
        source->ran_out = true;
        png_error(png, "file ends inside the image data");
    }
    std::memcpy(out, source->bytes.data() + source->offset, length);
    source->offset += length;
}

[[noreturn]] void png_fail(png_structp png, png_const_charp message) {
    auto* source = static_cast<PngSource*>(png_get_error_ptr(png));
    std::snprintf(source->message.data(), source->message.size(), "%s", message);
    png_longjmp(png, 1);
}

void png_ignore_warning(png_structp, png_const_charp) {}

// Decodes into `pixels` (already sized: RGB, or RGBA when the PNG has transparency).
// Plain data only on this frame: the longjmp skips no destructor.
bool png_decode_into(PngSource& source, cv::Mat& pixels, png_bytep* rows) {
    png_structp png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, png_fail, png_ignore_warning);
    if (png == nullptr) throw Error("libpng: cannot create a read struct");
    png_infop info = png_create_info_struct(png);
    if (info == nullptr) {
        png_destroy_read_struct(&png, nullptr, nullptr);
        throw Error("libpng: cannot create an info struct");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, nullptr);
        return false;
    }
    png_set_read_fn(png, &source, png_read_from_source);
    png_set_user_limits(png, static_cast<png_uint_32>(pixels.cols),
                        static_cast<png_uint_32>(pixels.rows));
    png_read_info(png, info);
    png_set_expand(png);
    png_set_scale_16(png);
    png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_channels(png, info) != pixels.channels() || png_get_bit_depth(png, info) != 8 ||
        png_get_image_width(png, info) != static_cast<png_uint_32>(pixels.cols) ||
        png_get_image_height(png, info) != static_cast<png_uint_32>(pixels.rows)) {
        png_error(png, "pixel layout differs from the header");
    }
    png_read_image(png, rows);
    png_read_end(png, nullptr);
    png_destroy_read_struct(&png, &info, nullptr);
    return true;
}

std::optional<ImageFailure> decode_png(Bytes bytes, const SourceHeader& header, Rgb background,
                                       cv::Mat& scratch, cv::Mat& rgb) {
    const bool transparency = header.transparency;
    cv::Mat& pixels = transparency ? scratch : rgb;
    pixels.create(header.stored.height, header.stored.width, transparency ? CV_8UC4 : CV_8UC3);
    std::vector<png_bytep> rows(static_cast<std::size_t>(pixels.rows));
    for (int y = 0; y < pixels.rows; ++y) rows[static_cast<std::size_t>(y)] = pixels.ptr(y);
    PngSource source{bytes};
    if (!png_decode_into(source, pixels, rows.data())) {
        const std::string detail = std::string("PNG: ") + source.message.data();
        return source.ran_out ? truncated(detail) : corrupt(detail);
    }
    if (transparency) composite(scratch, background, false, rgb);
    return std::nullopt;
}

std::optional<ImageFailure> decode_webp(Bytes bytes, const SourceHeader& header, Rgb background,
                                        cv::Mat& scratch, cv::Mat& rgb) {
    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config)) throw Error("libwebp: version mismatch");
    const bool alpha = header.transparency;
    cv::Mat& pixels = alpha ? scratch : rgb;
    pixels.create(header.stored.height, header.stored.width, alpha ? CV_8UC4 : CV_8UC3);
    config.output.colorspace = alpha ? MODE_RGBA : MODE_RGB;
    config.output.is_external_memory = 1;
    config.output.u.RGBA.rgba = pixels.data;
    config.output.u.RGBA.stride = static_cast<int>(pixels.step);
    config.output.u.RGBA.size = pixels.total() * pixels.elemSize();
    const VP8StatusCode status = WebPDecode(bytes.data(), bytes.size(), &config);
    WebPFreeDecBuffer(&config.output);
    if (status == VP8_STATUS_NOT_ENOUGH_DATA) return truncated("WebP: file ends inside the data");
    if (status == VP8_STATUS_UNSUPPORTED_FEATURE) {
        return ImageFailure{Reason::unsupported_format, "WebP feature not supported"};
    }
    if (status != VP8_STATUS_OK) return corrupt("WebP: decoding failed");
    if (alpha) composite(scratch, background, false, rgb);
    return std::nullopt;
}

std::optional<ImageFailure> decode_bmp(Bytes bytes, const SourceHeader& header, Rgb background,
                                       cv::Mat& rgb) {
    // The header's dimensions were checked against the caps; OpenCV may allocate now.
    const cv::Mat wrapped(1, static_cast<int>(bytes.size()), CV_8UC1,
                          const_cast<std::uint8_t*>(bytes.data()));
    const cv::Mat decoded = cv::imdecode(wrapped, cv::IMREAD_UNCHANGED);
    if (decoded.empty() || decoded.depth() != CV_8U || decoded.cols != header.stored.width ||
        decoded.rows != header.stored.height) {
        return corrupt("BMP: decoding failed");
    }
    switch (decoded.channels()) {
        case 1:
            cv::cvtColor(decoded, rgb, cv::COLOR_GRAY2RGB);
            break;
        case 3:
            cv::cvtColor(decoded, rgb, cv::COLOR_BGR2RGB);
            break;
        case 4:
            composite(decoded, background, true, rgb);
            break;
        default:
            return corrupt("BMP: unexpected channel count");
    }
    return std::nullopt;
}

// CMYK as libjpeg returns it to RGB. Adobe files store inverted values (255 = no ink).
void cmyk_to_rgb(const cv::Mat& cmyk, bool adobe_inverted, cv::Mat& rgb) {
    rgb.create(cmyk.rows, cmyk.cols, CV_8UC3);
    for (int y = 0; y < cmyk.rows; ++y) {
        const std::uint8_t* in = cmyk.ptr<std::uint8_t>(y);
        std::uint8_t* out = rgb.ptr<std::uint8_t>(y);
        for (int x = 0; x < cmyk.cols; ++x, in += 4, out += 3) {
            const int key = adobe_inverted ? in[3] : 255 - in[3];
            for (int c = 0; c < 3; ++c) {
                const int ink_free = adobe_inverted ? in[c] : 255 - in[c];
                out[c] = static_cast<std::uint8_t>((ink_free * key + 127) / 255);
            }
        }
    }
}

}  // namespace

SourceFormat sniff_format(std::span<const std::uint8_t> bytes) {
    if (starts_with(bytes, "\xff\xd8\xff")) return SourceFormat::jpeg;
    if (starts_with(bytes, kPngSignature)) return SourceFormat::png;
    if (starts_with(bytes, "RIFF") && starts_with(bytes, "WEBP", 8)) return SourceFormat::webp;
    if (starts_with(bytes, "BM")) return SourceFormat::bmp;
    return SourceFormat::unknown;
}

namespace {
constexpr std::array<std::pair<SourceFormat, std::string_view>, 5> kFormatNames{{
    {SourceFormat::jpeg, "jpeg"},
    {SourceFormat::png, "png"},
    {SourceFormat::webp, "webp"},
    {SourceFormat::bmp, "bmp"},
    {SourceFormat::unknown, "unknown"},
}};
}  // namespace

std::string_view to_string(SourceFormat format) {
    for (const auto& [value, name] : kFormatNames) {
        if (value == format) return name;
    }
    return "unknown";
}

std::optional<SourceFormat> parse_source_format(std::string_view text) {
    for (const auto& [value, name] : kFormatNames) {
        if (name == text && value != SourceFormat::unknown) return value;
    }
    return std::nullopt;
}

int jpeg_scale_eighths(Size stored, Size cover) {
    for (const int eighths : {1, 2, 4}) {
        const Size size = jpeg_decode_size(stored, eighths);
        if (size.width >= cover.width && size.height >= cover.height) return eighths;
    }
    return 8;
}

Size jpeg_decode_size(Size stored, int eighths) {
    const tjscalingfactor factor{eighths, 8};
    return {TJSCALED(stored.width, factor), TJSCALED(stored.height, factor)};
}

Decoder::Decoder() : decompressor_(new_turbojpeg_decompressor()) {}

void Decoder::reset_decompressor() {
    // TurboJPEG 2.1 does not abort libjpeg's state after an error: a handle that failed
    // misreads the next image ("Bogus marker length"), so failures get a fresh one.
    decompressor_ = new_turbojpeg_decompressor();
}

std::variant<SourceHeader, ImageFailure> Decoder::read_header(std::span<const std::uint8_t> bytes,
                                                              SourceFormat format) {
    switch (format) {
        case SourceFormat::jpeg: {
            auto header = read_jpeg_header(decompressor_.get(), bytes);
            if (std::holds_alternative<ImageFailure>(header)) reset_decompressor();
            return header;
        }
        case SourceFormat::png:
            return read_png_header(bytes);
        case SourceFormat::webp:
            return read_webp_header(bytes);
        case SourceFormat::bmp:
            return read_bmp_header(bytes);
        case SourceFormat::unknown:
            break;
    }
    return ImageFailure{Reason::unsupported_format, "unknown format"};
}

std::optional<ImageFailure> Decoder::decode(std::span<const std::uint8_t> bytes,
                                            const SourceHeader& header, Size cover, Rgb background,
                                            cv::Mat& rgb) {
    switch (header.format) {
        case SourceFormat::jpeg: {
            auto failure = decode_jpeg(bytes, header, cover, rgb);
            if (failure) reset_decompressor();
            return failure;
        }
        case SourceFormat::png:
            return decode_png(bytes, header, background, scratch_, rgb);
        case SourceFormat::webp:
            return decode_webp(bytes, header, background, scratch_, rgb);
        case SourceFormat::bmp:
            return decode_bmp(bytes, header, background, rgb);
        case SourceFormat::unknown:
            break;
    }
    return ImageFailure{Reason::unsupported_format, "unknown format"};
}

std::optional<ImageFailure> Decoder::decode_jpeg(std::span<const std::uint8_t> bytes,
                                                 const SourceHeader& header, Size cover,
                                                 cv::Mat& rgb) {
    const Size size = jpeg_decode_size(header.stored, jpeg_scale_eighths(header.stored, cover));
    const bool cmyk = header.cmyk;
    cv::Mat& pixels = cmyk ? scratch_ : rgb;
    pixels.create(size.height, size.width, cmyk ? CV_8UC4 : CV_8UC3);
    // Any warning is damage; progressive files may not spin through endless scans.
    const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS | TJFLAG_ACCURATEDCT;
    if (tjDecompress2(decompressor_.get(), bytes.data(), bytes.size(), pixels.data, size.width,
                      static_cast<int>(pixels.step), size.height, cmyk ? TJPF_CMYK : TJPF_RGB,
                      flags) != 0) {
        return jpeg_failure(decompressor_.get());
    }
    if (cmyk) cmyk_to_rgb(scratch_, header.inverted_cmyk, rgb);
    return std::nullopt;
}

std::optional<ImageFailure> Decoder::decode_ycbcr(std::span<const std::uint8_t> bytes,
                                                  const SourceHeader& header, Size cover,
                                                  YcbcrPlanes& ycbcr) {
    if (header.format != SourceFormat::jpeg || header.chroma_step == Size{}) {
        throw Error("decode_ycbcr: not a YCbCr JPEG");
    }
    const Size size = jpeg_decode_size(header.stored, jpeg_scale_eighths(header.stored, cover));
    std::array<unsigned char*, 3> planes{};
    std::array<int, 3> strides{};
    for (std::size_t c = 0; c < 3; ++c) {
        // TurboJPEG pads the luma plane to whole chroma samples (tjPlaneWidth/Height).
        const Size step = header.chroma_step;
        const int columns = (size.width + step.width - 1) / step.width;
        const int rows = (size.height + step.height - 1) / step.height;
        cv::Mat& plane = ycbcr.planes[c];
        if (c == 0) {
            plane.create(rows * step.height, columns * step.width, CV_8UC1);
        } else {
            plane.create(rows, columns, CV_8UC1);
        }
        planes[c] = plane.data;
        strides[c] = static_cast<int>(plane.step);
    }
    ycbcr.chroma_step = header.chroma_step;
    const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS | TJFLAG_ACCURATEDCT;
    if (tjDecompressToYUVPlanes(decompressor_.get(), bytes.data(), bytes.size(), planes.data(),
                                size.width, strides.data(), size.height, flags) != 0) {
        auto failure = jpeg_failure(decompressor_.get());
        reset_decompressor();
        return failure;
    }
    return std::nullopt;
}

}  // namespace synshard::image
