#include "synshard/synth/jpeg_quirks.hpp"

#include <libexif/exif-data.h>
#include <turbojpeg.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "synshard/image/turbojpeg_handle.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/rng.hpp"

namespace synshard::synth {
namespace {

constexpr std::uint8_t kMarker = 0xFF;
constexpr std::uint8_t kSoi = 0xD8;
constexpr std::uint8_t kSos = 0xDA;
constexpr std::uint8_t kSof0 = 0xC0;
constexpr std::uint8_t kSof1 = 0xC1;
constexpr std::uint8_t kSof2 = 0xC2;

int read_u16(std::span<const std::uint8_t> bytes, std::size_t at) {
    return (bytes[at] << 8) | bytes[at + 1];
}

void write_u16(std::vector<std::uint8_t>& bytes, std::size_t at, int value) {
    bytes[at] = static_cast<std::uint8_t>(value >> 8);
    bytes[at + 1] = static_cast<std::uint8_t>(value);
}

// Offset of the first marker segment (0xFF, code) whose code satisfies wanted, walking
// the header segments after SOI; throws if the scan starts first or the file ends.
template <class Wanted>
std::size_t find_segment(std::span<const std::uint8_t> jpeg, Wanted wanted, const char* what) {
    if (jpeg.size() < 4 || jpeg[0] != kMarker || jpeg[1] != kSoi) {
        throw Error("JPEG surgery: not a JPEG (no SOI)");
    }
    std::size_t at = 2;
    while (at + 4 <= jpeg.size()) {
        if (jpeg[at] != kMarker) throw Error("JPEG surgery: bad marker layout");
        const std::uint8_t code = jpeg[at + 1];
        if (wanted(code)) return at;
        if (code == kSos) break;
        at += 2 + static_cast<std::size_t>(read_u16(jpeg, at + 2));
    }
    throw Error(std::string("JPEG surgery: no ") + what + " segment");
}

struct ExifDataDeleter {
    void operator()(ExifData* data) const { exif_data_unref(data); }
};

}  // namespace

std::size_t entropy_data_offset(std::span<const std::uint8_t> jpeg) {
    const std::size_t sos = find_segment(
        jpeg, [](std::uint8_t code) { return code == kSos; }, "SOS");
    return sos + 2 + static_cast<std::size_t>(read_u16(jpeg, sos + 2));
}

std::vector<std::uint8_t> with_exif_orientation(std::span<const std::uint8_t> jpeg,
                                                int orientation) {
    find_segment(
        jpeg, [](std::uint8_t) { return true; }, "any");  // checks SOI
    std::unique_ptr<ExifData, ExifDataDeleter> data(exif_data_new());
    if (!data) throw Error("libexif: out of memory");
    // Following the specification would add mandatory tags, among them the current time.
    exif_data_unset_option(data.get(), EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_set_data_type(data.get(), EXIF_DATA_TYPE_COMPRESSED);
    exif_data_set_byte_order(data.get(), EXIF_BYTE_ORDER_INTEL);
    ExifEntry* entry = exif_entry_new();
    if (entry == nullptr) throw Error("libexif: out of memory");
    exif_content_add_entry(data->ifd[EXIF_IFD_0], entry);
    exif_entry_initialize(entry, EXIF_TAG_ORIENTATION);
    exif_set_short(entry->data, EXIF_BYTE_ORDER_INTEL, static_cast<ExifShort>(orientation));
    exif_entry_unref(entry);  // the IFD holds its own reference

    unsigned char* payload = nullptr;
    unsigned int length = 0;
    exif_data_save_data(data.get(), &payload, &length);
    const std::unique_ptr<unsigned char, decltype(&std::free)> owned(payload, &std::free);
    if (payload == nullptr || length == 0 || length + 2 > 0xFFFF) {
        throw Error("libexif: cannot serialise the Exif segment");
    }
    std::vector<std::uint8_t> result(jpeg.begin(), jpeg.begin() + 2);
    result.push_back(kMarker);
    result.push_back(0xE1);  // APP1
    result.push_back(static_cast<std::uint8_t>((length + 2) >> 8));
    result.push_back(static_cast<std::uint8_t>(length + 2));
    result.insert(result.end(), payload, payload + length);
    result.insert(result.end(), jpeg.begin() + 2, jpeg.end());
    return result;
}

std::vector<std::uint8_t> truncated_jpeg(std::span<const std::uint8_t> jpeg) {
    const std::size_t start = entropy_data_offset(jpeg);
    const std::size_t cut = start + (jpeg.size() - start) / 2;
    return {jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(cut)};
}

std::vector<std::uint8_t> corrupt_jpeg(std::span<const std::uint8_t> jpeg, std::uint64_t seed) {
    const std::size_t start = entropy_data_offset(jpeg);
    const std::size_t span = jpeg.size() - start;
    constexpr std::size_t kRun = 48;
    Rng rng(seed);
    for (const double place : {0.4, 0.55, 0.3, 0.7, 0.2, 0.85}) {
        std::vector<std::uint8_t> result(jpeg.begin(), jpeg.end());
        const std::size_t from =
            start + static_cast<std::size_t>(static_cast<double>(span) * place);
        const std::size_t to = std::min(from + kRun, jpeg.size() - 2);
        for (std::size_t at = from; at < to; ++at) {
            if (jpeg[at] == kMarker || jpeg[at - 1] == kMarker) continue;
            auto altered = static_cast<std::uint8_t>(jpeg[at] ^ (1 + rng.below(254)));
            if (altered == kMarker) altered = 0x7F;
            result[at] = altered;
        }
        if (decodes_with_warning(result)) return result;
    }
    throw Error("JPEG surgery: no corruption of this file makes libjpeg warn");
}

std::vector<std::uint8_t> with_sof_dimensions(std::span<const std::uint8_t> jpeg, int width,
                                              int height) {
    const std::size_t sof = find_segment(
        jpeg, [](std::uint8_t code) { return code == kSof0 || code == kSof1 || code == kSof2; },
        "SOF");
    std::vector<std::uint8_t> result(jpeg.begin(), jpeg.end());
    // Segment layout: FF Cn, length(2), precision(1), height(2), width(2), ...
    write_u16(result, sof + 5, height);
    write_u16(result, sof + 7, width);
    return result;
}

bool decodes_with_warning(std::span<const std::uint8_t> jpeg) {
    const image::TurboJpegHandle decompressor = image::new_turbojpeg_decompressor();
    int width = 0;
    int height = 0;
    int subsampling = 0;
    int colorspace = 0;
    auto* data = const_cast<unsigned char*>(jpeg.data());
    const auto size = static_cast<unsigned long>(jpeg.size());
    if (tjDecompressHeader3(decompressor.get(), data, size, &width, &height, &subsampling,
                            &colorspace) != 0) {
        return false;
    }
    std::vector<unsigned char> pixels(static_cast<std::size_t>(width) *
                                      static_cast<std::size_t>(height) * 3);
    const int status =
        tjDecompress2(decompressor.get(), data, size, pixels.data(), width, 0, height, TJPF_RGB, 0);
    return status != 0 && tjGetErrorCode(decompressor.get()) == TJERR_WARNING;
}

}  // namespace synshard::synth
