#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace synshard::synth {

// Byte-level surgery on a valid baseline or progressive JPEG (as JpegEncoder writes it),
// making the traps found in real corpora. Each throws Error if jpeg is not such a file.

// Offset of the first entropy-coded byte: just past the first SOS segment's header.
std::size_t entropy_data_offset(std::span<const std::uint8_t> jpeg);

// Inserts an APP1 Exif segment (built with libexif, little-endian TIFF, IFD0 holding
// only Orientation) right after SOI.
std::vector<std::uint8_t> with_exif_orientation(std::span<const std::uint8_t> jpeg,
                                                int orientation);

// Cuts the file half-way through its entropy-coded data (no EOI): decoders warn about
// a premature end and fill the missing rows.
std::vector<std::uint8_t> truncated_jpeg(std::span<const std::uint8_t> jpeg);

// Overwrites a run of entropy-coded bytes in the middle of the scan with other values,
// never creating or breaking a marker (no 0xFF is written, none is touched, and no byte
// after a 0xFF changes). The result is chosen among a few candidate runs so that libjpeg
// reports a corrupt-data warning when decoding it.
std::vector<std::uint8_t> corrupt_jpeg(std::span<const std::uint8_t> jpeg, std::uint64_t seed);

// Rewrites the height and width in the SOF0/SOF2 header, leaving the data as it is.
std::vector<std::uint8_t> with_sof_dimensions(std::span<const std::uint8_t> jpeg, int width,
                                              int height);

// True if TurboJPEG decodes jpeg only with a libjpeg warning (TJERR_WARNING).
bool decodes_with_warning(std::span<const std::uint8_t> jpeg);

}  // namespace synshard::synth
