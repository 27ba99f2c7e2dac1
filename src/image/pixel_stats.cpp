#include "synshard/image/pixel_stats.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

// Compilers that define __SSE2__ (GCC, clang) also have the target attribute the AVX2
// loop needs (as in resample.cpp).
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "synshard/util/error.hpp"

namespace synshard::image {
namespace {

// JPEG's limit on a side, which keeps 32-bit row sums of squares from overflowing.
constexpr int kMaxJpegSide = 65535;

// libjpeg-turbo's YCbCr -> RGB conversion (jdcolor.c): JFIF's in 16-bit fixed point, so
// that sums computed from planes are those of the pixels libjpeg decodes from them. Its
// tables hold these offsets by sample; computed per pixel, the loop vectorises.
constexpr int kYcbcrScaleBits = 16;

constexpr std::int32_t fixed_point(double value) {
    return static_cast<std::int32_t>(value * (1 << kYcbcrScaleBits) + 0.5);
}

struct RgbOffsets {
    std::int16_t red = 0;
    std::int16_t green = 0;
    std::int16_t blue = 0;
};

constexpr RgbOffsets rgb_offsets(std::uint8_t cb, std::uint8_t cr) {
    constexpr std::int32_t one_half = std::int32_t{1} << (kYcbcrScaleBits - 1);
    const std::int32_t blue_difference = cb - 128;
    const std::int32_t red_difference = cr - 128;
    // Green's two terms are added before the shift, as libjpeg does.
    return {static_cast<std::int16_t>((fixed_point(1.40200) * red_difference + one_half) >>
                                      kYcbcrScaleBits),
            static_cast<std::int16_t>((-fixed_point(0.34414) * blue_difference -
                                       fixed_point(0.71414) * red_difference + one_half) >>
                                      kYcbcrScaleBits),
            static_cast<std::int16_t>((fixed_point(1.77200) * blue_difference + one_half) >>
                                      kYcbcrScaleBits)};
}

// libjpeg-turbo's "fancy" upsampling of a 4:2:0 chroma plane of rows x columns samples
// (jdsample.c): a triangle filter, 3/4 of the nearer sample and 1/4 of the further one in
// each direction, edge samples repeated, with its rounding (+8 and +7 alternately before
// the shift by 4, so that no direction is favoured). Planes two samples wide or less it
// does not filter: each sample covers its 2x2 block.
constexpr int kUnfilteredColumns = 2;

// The vertical pass for image row `row`, 3 * nearer + further per column, into
// sums[1 .. columns] with the edge sums repeated at sums[0] and sums[columns + 1], so that
// the horizontal pass reads both neighbours of every column alike. 16-bit arithmetic (at
// most 16 * 255 + 8 after the horizontal pass) and no branch inside, so that it vectorises.
void chroma_column_sums(const cv::Mat& plane, int rows, int columns, int row, std::int16_t* sums) {
    const std::uint8_t* nearer = plane.ptr<std::uint8_t>(row / 2);
    const int further_row = std::clamp(row / 2 + (row % 2 == 0 ? -1 : 1), 0, rows - 1);
    const std::uint8_t* further = plane.ptr<std::uint8_t>(further_row);
    for (int x = 0; x < columns; ++x)
        sums[x + 1] = static_cast<std::int16_t>(3 * nearer[x] + further[x]);
    sums[0] = sums[1];
    sums[columns + 1] = sums[columns];
}

// The horizontal pass: pixels 2x and 2x + 1 of each column x into out.
void interpolate_chroma(const std::int16_t* sums, int columns, std::uint8_t* out) {
    for (int x = 0; x < columns; ++x) {
        const auto weighted = static_cast<std::int16_t>(3 * sums[x + 1]);
        out[2 * x] =
            static_cast<std::uint8_t>(static_cast<std::int16_t>(weighted + sums[x] + 8) >> 4);
        out[2 * x + 1] =
            static_cast<std::uint8_t>(static_cast<std::int16_t>(weighted + sums[x + 2] + 7) >> 4);
    }
}

// Row `row` of the image's chroma, one sample per pixel, into out[0, 2 * columns).
// `sums` is scratch of columns + 2.
void upsample_chroma_row(const cv::Mat& plane, int rows, int columns, int row,
                         std::vector<std::int16_t>& sums, std::uint8_t* out) {
    if (columns <= kUnfilteredColumns) {
        const std::uint8_t* nearer = plane.ptr<std::uint8_t>(row / 2);
        for (int x = 0; x < columns; ++x) out[2 * x] = out[2 * x + 1] = nearer[x];
        return;
    }
    chroma_column_sums(plane, rows, columns, row, sums.data());
    interpolate_chroma(sums.data(), columns, out);
}

// One row's sums; 32 bits cannot overflow (65535 * 255^2 < 2^32).
struct RowSums {
    std::array<std::uint32_t, 3> sum{};
    std::array<std::uint32_t, 3> squares{};
};

// Adds a row's `width` pixels, given its luma and its upsampled chroma (one sample per
// pixel each), to `row`. `offsets` is scratch of at least `width` samples per channel.
void add_pixels(const std::uint8_t* luma, const std::uint8_t* cb, const std::uint8_t* cr, int width,
                std::array<std::vector<std::int16_t>, 3>& offsets, RowSums& row) {
    // Each pixel's chroma offsets first, so that the loop over the pixels is a plain one
    // (the compiler vectorises it).
    for (int x = 0; x < width; ++x) {
        const RgbOffsets offset = rgb_offsets(cb[x], cr[x]);
        offsets[0][x] = offset.red;
        offsets[1][x] = offset.green;
        offsets[2][x] = offset.blue;
    }
    for (std::size_t c = 0; c < 3; ++c) {
        const std::int16_t* offset = offsets[c].data();
        // 16-bit lanes hold a value and its square (255^2 < 2^16), twice as many per vector
        // as 32-bit ones.
        std::uint32_t sum = 0;
        std::uint32_t squares = 0;
        for (int x = 0; x < width; ++x) {
            const auto value = static_cast<std::uint16_t>(
                std::clamp<std::int16_t>(static_cast<std::int16_t>(luma[x] + offset[x]), 0, 255));
            sum += value;
            squares += static_cast<std::uint16_t>(value * value);
        }
        row.sum[c] += sum;
        row.squares[c] += squares;
    }
}

#if defined(__SSE2__)

// The AVX2 loop computes rgb_offsets' formulas in 16-bit lanes. A weight over 2^15 is
// split: (w * d + 2^15) >> 16 = k * d + ((w - k * 2^16) * d + 2^15) >> 16 for any integer
// k, exactly (the shift is a floor division).
constexpr std::int32_t kOne = std::int32_t{1} << kYcbcrScaleBits;
constexpr std::int32_t kRedFraction = fixed_point(1.40200) - kOne;       // red = d_r + ...
constexpr std::int32_t kBlueFraction = fixed_point(1.77200) - 2 * kOne;  // blue = 2 d_b + ...
constexpr std::int32_t kGreenBlue = -fixed_point(0.34414);               // green = -d_r + ...
constexpr std::int32_t kGreenRed = kOne - fixed_point(0.71414);
static_assert(kRedFraction > -32768 && kRedFraction < 32768 && kBlueFraction > -32768 &&
              kBlueFraction < 32768 && kGreenBlue > -32768 && kGreenRed < 32768);

// Compiled for AVX2 only (the target attribute), so the binary still runs where
// best_simd() is lower; no lambdas, which would not inherit the attribute.

// (w * x + 2^15) >> 16 in each 16-bit lane: the 32-bit product's high half, plus one
// where its low half is 2^15 or more (that half's top bit).
__attribute__((target("avx2"), always_inline)) inline __m256i fixed_point_product_avx2(
    __m256i x, std::int32_t w) {
    const __m256i weight = _mm256_set1_epi16(static_cast<std::int16_t>(w));
    return _mm256_add_epi16(_mm256_mulhi_epi16(x, weight),
                            _mm256_srli_epi16(_mm256_mullo_epi16(x, weight), 15));
}

// (a * x + b * y + 2^15) >> 16 in each 16-bit lane, the products and sum in 32 bits.
__attribute__((target("avx2"), always_inline)) inline __m256i fixed_point_sum_avx2(__m256i x,
                                                                                   __m256i y,
                                                                                   std::int32_t a,
                                                                                   std::int32_t b) {
    const __m256i weights = _mm256_set1_epi32(static_cast<std::int32_t>(
        (static_cast<std::uint32_t>(b) << 16) | (static_cast<std::uint32_t>(a) & 0xffff)));
    const __m256i one_half = _mm256_set1_epi32(kOne / 2);
    // unpack and pack work within 128-bit lanes alike, so the lanes come back in order.
    const __m256i low = _mm256_srai_epi32(
        _mm256_add_epi32(_mm256_madd_epi16(_mm256_unpacklo_epi16(x, y), weights), one_half),
        kYcbcrScaleBits);
    const __m256i high = _mm256_srai_epi32(
        _mm256_add_epi32(_mm256_madd_epi16(_mm256_unpackhi_epi16(x, y), weights), one_half),
        kYcbcrScaleBits);
    return _mm256_packs_epi32(low, high);
}

// One channel of 16 pixels, luma plus offset clamped to 0..255, added to 32-bit lane sums
// (pairs of lanes summed by madd: a square sum of two is at most 2 * 255^2). In a row's
// last, partial block, lanes outside `valid` (past the row's end) add nothing.
template <bool kPartial>
__attribute__((target("avx2"), always_inline)) inline void add_channel_avx2(
    __m256i luma, __m256i offset, __m256i valid, __m256i& sum, __m256i& squares) {
    __m256i value =
        _mm256_min_epi16(_mm256_max_epi16(_mm256_add_epi16(luma, offset), _mm256_setzero_si256()),
                         _mm256_set1_epi16(255));
    if constexpr (kPartial) value = _mm256_and_si256(value, valid);
    sum = _mm256_add_epi32(sum, _mm256_madd_epi16(value, _mm256_set1_epi16(1)));
    squares = _mm256_add_epi32(squares, _mm256_madd_epi16(value, value));
}

__attribute__((target("avx2"), always_inline)) inline std::uint32_t lane_total_avx2(__m256i lanes) {
    alignas(32) std::array<std::uint32_t, 8> values{};
    _mm256_store_si256(reinterpret_cast<__m256i*>(values.data()), lanes);
    std::uint32_t total = 0;
    for (const std::uint32_t value : values) total += value;
    return total;
}

// 16 pixels' luma and upsampled chroma (16-bit lanes) added to the lane sums.
template <bool kPartial>
__attribute__((target("avx2"), always_inline)) inline void add_block_avx2(__m256i luma, __m256i cb,
                                                                          __m256i cr, __m256i valid,
                                                                          __m256i* sums,
                                                                          __m256i* squares) {
    const __m256i neutral = _mm256_set1_epi16(128);
    const __m256i blue_difference = _mm256_sub_epi16(cb, neutral);
    const __m256i red_difference = _mm256_sub_epi16(cr, neutral);
    const __m256i red =
        _mm256_add_epi16(red_difference, fixed_point_product_avx2(red_difference, kRedFraction));
    const __m256i green = _mm256_sub_epi16(
        fixed_point_sum_avx2(blue_difference, red_difference, kGreenBlue, kGreenRed),
        red_difference);
    const __m256i blue = _mm256_add_epi16(_mm256_add_epi16(blue_difference, blue_difference),
                                          fixed_point_product_avx2(blue_difference, kBlueFraction));
    add_channel_avx2<kPartial>(luma, red, valid, sums[0], squares[0]);
    add_channel_avx2<kPartial>(luma, green, valid, sums[1], squares[1]);
    add_channel_avx2<kPartial>(luma, blue, valid, sums[2], squares[2]);
}

// The horizontal chroma pass for 16 columns from chroma_column_sums' output (`sums` points
// at the first column's left neighbour): the even pixels' samples and the odd ones'.
__attribute__((target("avx2"), always_inline)) inline void interpolate_chroma_avx2(
    const std::int16_t* sums, __m256i& even, __m256i& odd) {
    const __m256i center = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sums + 1));
    const __m256i left = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sums));
    const __m256i right = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sums + 2));
    const __m256i weighted = _mm256_add_epi16(_mm256_add_epi16(center, center), center);
    even = _mm256_srli_epi16(
        _mm256_add_epi16(_mm256_add_epi16(weighted, left), _mm256_set1_epi16(8)), 4);
    odd = _mm256_srli_epi16(
        _mm256_add_epi16(_mm256_add_epi16(weighted, right), _mm256_set1_epi16(7)), 4);
}

// 32 pixels: their luma at `pixels`, their chroma upsampled on the way from the column
// sums of their 16 columns (the even pixels in one vector, the odd ones in another: sums
// do not depend on the order). A partial block adds its first `count` pixels only.
template <bool kPartial>
__attribute__((target("avx2"), always_inline)) inline void add_pixel_block_avx2(
    const std::uint8_t* pixels, const std::int16_t* cb_sums, const std::int16_t* cr_sums, int count,
    __m256i* sums, __m256i* squares) {
    const __m256i pair = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pixels));
    __m256i even_valid = _mm256_setzero_si256();
    __m256i odd_valid = _mm256_setzero_si256();
    if constexpr (kPartial) {
        // Pixel 2j is even lane j, pixel 2j + 1 odd lane j.
        const __m256i lane =
            _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        even_valid =
            _mm256_cmpgt_epi16(_mm256_set1_epi16(static_cast<std::int16_t>((count + 1) / 2)), lane);
        odd_valid =
            _mm256_cmpgt_epi16(_mm256_set1_epi16(static_cast<std::int16_t>(count / 2)), lane);
    }
    __m256i cb_even;
    __m256i cb_odd;
    __m256i cr_even;
    __m256i cr_odd;
    interpolate_chroma_avx2(cb_sums, cb_even, cb_odd);
    interpolate_chroma_avx2(cr_sums, cr_even, cr_odd);
    add_block_avx2<kPartial>(_mm256_and_si256(pair, _mm256_set1_epi16(0xff)), cb_even, cr_even,
                             even_valid, sums, squares);
    add_block_avx2<kPartial>(_mm256_srli_epi16(pair, 8), cb_odd, cr_odd, odd_valid, sums, squares);
}

// add_pixels for a whole row, 32 pixels at a time. The last, partial block reads its luma
// from a copy; `cb_sums` and `cr_sums` hold 16 samples more than chroma_column_sums
// writes, for it.
__attribute__((target("avx2"))) void add_pixels_avx2(const std::uint8_t* luma,
                                                     const std::int16_t* cb_sums,
                                                     const std::int16_t* cr_sums, int width,
                                                     RowSums& row) {
    const __m256i zero = _mm256_setzero_si256();
    // A lane adds at most 4 * 255^2 per block, 65535 / 32 + 1 times: within 32 bits.
    __m256i sums[3] = {zero, zero, zero};
    __m256i squares[3] = {zero, zero, zero};
    int x = 0;
    for (; x + 32 <= width; x += 32) {
        add_pixel_block_avx2<false>(luma + x, cb_sums + x / 2, cr_sums + x / 2, 32, sums, squares);
    }
    if (x < width) {
        alignas(32) std::array<std::uint8_t, 32> last{};
        std::copy(luma + x, luma + width, last.begin());
        add_pixel_block_avx2<true>(last.data(), cb_sums + x / 2, cr_sums + x / 2, width - x, sums,
                                   squares);
    }
    for (std::size_t c = 0; c < 3; ++c) {
        row.sum[c] += lane_total_avx2(sums[c]);
        row.squares[c] += lane_total_avx2(squares[c]);
    }
}

#endif

}  // namespace

PixelStats& PixelStats::operator+=(const PixelStats& other) {
    for (std::size_t c = 0; c < 3; ++c) {
        sum[c] += other.sum[c];
        sum_of_squares[c] += other.sum_of_squares[c];
    }
    pixels += other.pixels;
    return *this;
}

PixelStats& PixelStats::operator-=(const PixelStats& other) {
    for (std::size_t c = 0; c < 3; ++c) {
        sum[c] -= other.sum[c];
        sum_of_squares[c] -= other.sum_of_squares[c];
    }
    pixels -= other.pixels;
    return *this;
}

PixelStats pixel_stats(const cv::Mat& rgb, const Rect& content) {
    if (rgb.type() != CV_8UC3 || content.x < 0 || content.y < 0 ||
        content.x + content.width > rgb.cols || content.y + content.height > rgb.rows) {
        throw Error("pixel_stats: content rectangle outside the RGB image");
    }
    PixelStats stats;
    for (int y = content.y; y < content.y + content.height; ++y) {
        const std::uint8_t* pixel = rgb.ptr<std::uint8_t>(y) + std::ptrdiff_t{3} * content.x;
        // Per-row 32-bit sums cannot overflow (65535 * 255^2 < 2^32).
        std::array<std::uint32_t, 3> sum{};
        std::array<std::uint64_t, 3> squares{};
        for (int x = 0; x < content.width; ++x, pixel += 3) {
            for (std::size_t c = 0; c < 3; ++c) {
                sum[c] += pixel[c];
                // 32-bit squares (255^2 fits), added to the 64-bit sums.
                squares[c] += static_cast<std::uint64_t>(std::uint32_t{pixel[c]} * pixel[c]);
            }
        }
        for (std::size_t c = 0; c < 3; ++c) {
            stats.sum[c] += sum[c];
            stats.sum_of_squares[c] += squares[c];
        }
    }
    stats.pixels =
        static_cast<std::uint64_t>(content.width) * static_cast<std::uint64_t>(content.height);
    return stats;
}

PixelStats ycbcr420_pixel_stats(const std::array<cv::Mat, 3>& planes, Size size,
                                Resampler::Simd simd) {
    const int chroma_rows = (size.height + 1) / 2;
    const int chroma_columns = (size.width + 1) / 2;
    const auto covers = [](const cv::Mat& plane, int rows, int columns) {
        return plane.type() == CV_8UC1 && plane.rows >= rows && plane.cols >= columns;
    };
    if (size.width <= 0 || size.height <= 0 || size.width > kMaxJpegSide ||
        !covers(planes[0], size.height, size.width) ||
        !covers(planes[1], chroma_rows, chroma_columns) ||
        !covers(planes[2], chroma_rows, chroma_columns)) {
        throw Error("ycbcr420_pixel_stats: planes smaller than " + std::to_string(size.width) +
                    "x" + std::to_string(size.height) + " or not 8-bit");
    }
    if (simd > Resampler::best_simd())
        throw Error("ycbcr420_pixel_stats: this CPU or build lacks that SIMD level");
    PixelStats stats;
    const auto upsampled_width = 2 * static_cast<std::size_t>(chroma_columns);
    // chroma_column_sums' columns + 2, and 16 for add_pixels_avx2's last block.
    std::vector<std::int16_t> cb_sums(static_cast<std::size_t>(chroma_columns) + 2 + 16);
    std::vector<std::int16_t> cr_sums(cb_sums.size());
    std::vector<std::uint8_t> cb(upsampled_width);
    std::vector<std::uint8_t> cr(upsampled_width);
    std::array<std::vector<std::int16_t>, 3> offsets;
    for (auto& channel : offsets) channel.resize(upsampled_width);
    for (int row = 0; row < size.height; ++row) {
        const std::uint8_t* luma = planes[0].ptr<std::uint8_t>(row);
        RowSums sums;
        bool added = false;
#if defined(__SSE2__)
        if (simd == Resampler::Simd::avx2 && chroma_columns > kUnfilteredColumns) {
            chroma_column_sums(planes[1], chroma_rows, chroma_columns, row, cb_sums.data());
            chroma_column_sums(planes[2], chroma_rows, chroma_columns, row, cr_sums.data());
            add_pixels_avx2(luma, cb_sums.data(), cr_sums.data(), size.width, sums);
            added = true;
        }
#endif
        if (!added) {
            upsample_chroma_row(planes[1], chroma_rows, chroma_columns, row, cb_sums, cb.data());
            upsample_chroma_row(planes[2], chroma_rows, chroma_columns, row, cr_sums, cr.data());
            add_pixels(luma, cb.data(), cr.data(), size.width, offsets, sums);
        }
        for (std::size_t c = 0; c < 3; ++c) {
            stats.sum[c] += sums.sum[c];
            stats.sum_of_squares[c] += sums.squares[c];
        }
    }
    stats.pixels = static_cast<std::uint64_t>(size.width) * static_cast<std::uint64_t>(size.height);
    return stats;
}

}  // namespace synshard::image
