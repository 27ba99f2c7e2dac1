#include "synshard/image/resample.hpp"

#include <algorithm>
#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "synshard/util/error.hpp"

namespace synshard::image {
namespace {

// Fraction bits of the vertically filtered row: 255 * 64 with the cubic's overshoot
// stays well inside int16.
constexpr int kRowBits = 6;
constexpr double kRadius = 2;  // Catmull-Rom's support, in (stretched) source pixels

// Keys' cubic with a = -0.5 (Catmull-Rom): interpolating, sharp, small negative lobes.
double catmull_rom(double x) {
    x = x < 0 ? -x : x;
    if (x < 1) return (1.5 * x - 2.5) * x * x + 1;
    if (x < 2) return ((-0.5 * x + 2.5) * x - 4) * x + 2;
    return 0;
}

}  // namespace

int Resampler::tap_count(double scale) {
    // Taps beyond the support get weight zero.
    const double support = kRadius * std::max(scale, 1.0);
    const int needed = static_cast<int>(std::ceil(2 * support)) + 1;
    return (needed + 3) / 4 * 4;  // whole groups of 4 for the SSE2 horizontal pass
}

void Resampler::build_table(AxisMap map, int source_length, int target_length, int taps,
                            Table& table) {
    const double stretch = std::max(map.scale, 1.0);
    const double support = kRadius * stretch;
    // A source shorter than the filter: every output reads all of it.
    taps = std::min(taps, source_length);
    table.taps = taps;
    table.first.resize(static_cast<std::size_t>(target_length));
    table.weights.assign(static_cast<std::size_t>(target_length) * static_cast<std::size_t>(taps),
                         0);
    std::vector<double> folded(static_cast<std::size_t>(taps));
    for (int i = 0; i < target_length; ++i) {
        const double centre = (i + 0.5) * map.scale + map.offset;
        // Source sample j (centre j + 0.5) counts when it lies within the support.
        const int start = static_cast<int>(std::floor(centre - support - 0.5));
        const int end = static_cast<int>(std::ceil(centre + support - 0.5));
        // The window of `taps` source samples this output reads, inside the source.
        const int base = std::clamp(start, 0, source_length - taps);
        std::fill(folded.begin(), folded.end(), 0.0);
        double total = 0;
        for (int j = start; j <= end; ++j) {
            const double weight = catmull_rom((j + 0.5 - centre) / stretch);
            if (weight == 0) continue;
            // Samples beyond the edge repeat it.
            const int index = std::clamp(std::clamp(j, 0, source_length - 1) - base, 0, taps - 1);
            folded[static_cast<std::size_t>(index)] += weight;
            total += weight;
        }
        table.first[static_cast<std::size_t>(i)] = base;
        std::int16_t* weights = &table.weights[static_cast<std::size_t>(i) * taps];
        int sum = 0;
        int largest = 0;
        for (int k = 0; k < taps; ++k) {
            const double scaled = folded[static_cast<std::size_t>(k)] / total * (1 << kWeightBits);
            weights[k] = static_cast<std::int16_t>(std::floor(scaled + 0.5));
            sum += weights[k];
            if (weights[k] > weights[largest]) largest = k;
        }
        // Rounding leaves the sum a little off one: the largest weight takes the rest, so
        // flat areas stay exactly flat.
        weights[largest] = static_cast<std::int16_t>(weights[largest] + (1 << kWeightBits) - sum);
    }
}

namespace {

// The two passes with the tap count known at compile time, so the compiler unrolls the
// tap loops and vectorises the vertical pass across the row.
constexpr int kVerticalShift = Resampler::kWeightBits - kRowBits;
constexpr int kHorizontalShift = Resampler::kWeightBits + kRowBits;

// One output row at source width from `taps` source rows (`in`), in fixed point with
// kRowBits fraction bits. The SSE2 path computes exactly what the scalar loop does
// (pmaddwd is an exact 16 x 16 -> 32-bit multiply-add).
void vertical_pass(const std::uint8_t* const* in, const std::int16_t* weights, int taps,
                   int samples, std::int16_t* row) {
    constexpr std::int32_t kRound = 1 << (kVerticalShift - 1);
    int i = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    for (; i + 8 <= samples; i += 8) {
        __m128i low = _mm_set1_epi32(kRound);
        __m128i high = low;
        for (int k = 0; k < taps; k += 2) {
            // Taps in pairs; an odd last tap pairs with itself at weight zero.
            const bool pair = k + 1 < taps;
            const __m128i a = _mm_unpacklo_epi8(
                _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in[k] + i)), zero);
            const __m128i b =
                pair ? _mm_unpacklo_epi8(
                           _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in[k + 1] + i)), zero)
                     : zero;
            const __m128i w =
                _mm_set1_epi32(static_cast<int>(static_cast<std::uint16_t>(weights[k])) |
                               (pair ? static_cast<int>(weights[k + 1]) << 16 : 0));
            low = _mm_add_epi32(low, _mm_madd_epi16(_mm_unpacklo_epi16(a, b), w));
            high = _mm_add_epi32(high, _mm_madd_epi16(_mm_unpackhi_epi16(a, b), w));
        }
        _mm_storeu_si128(reinterpret_cast<__m128i*>(row + i),
                         _mm_packs_epi32(_mm_srai_epi32(low, kVerticalShift),
                                         _mm_srai_epi32(high, kVerticalShift)));
    }
#endif
    for (; i < samples; ++i) {
        std::int32_t sum = kRound;
        for (int k = 0; k < taps; ++k) sum += weights[k] * in[k][i];
        row[i] = static_cast<std::int16_t>(sum >> kVerticalShift);
    }
}

std::uint8_t to_pixel(std::int32_t sum) {
    return static_cast<std::uint8_t>(std::clamp(sum >> kHorizontalShift, 0, 255));
}

// One channel of the output row (every `step`-th byte of `out`) from one channel of a
// vertically filtered row.
void horizontal_pass(const std::int16_t* row, const Resampler::Table& table, int width,
                     std::uint8_t* out, int step) {
    constexpr std::int32_t kRound = 1 << (kHorizontalShift - 1);
    const int taps = table.taps;
#if defined(__SSE2__)
    if (taps % 4 == 0) {
        for (int x = 0; x < width; ++x, out += step) {
            const std::int16_t* in = row + table.first[static_cast<std::size_t>(x)];
            const std::int16_t* weights = &table.weights[static_cast<std::size_t>(x) * taps];
            __m128i sums = _mm_setzero_si128();
            int k = 0;
            for (; k + 8 <= taps; k += 8) {
                sums = _mm_add_epi32(
                    sums,
                    _mm_madd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + k)),
                                   _mm_loadu_si128(reinterpret_cast<const __m128i*>(weights + k))));
            }
            if (k < taps) {
                sums = _mm_add_epi32(
                    sums,
                    _mm_madd_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + k)),
                                   _mm_loadl_epi64(reinterpret_cast<const __m128i*>(weights + k))));
            }
            sums = _mm_add_epi32(sums, _mm_shuffle_epi32(sums, _MM_SHUFFLE(1, 0, 3, 2)));
            sums = _mm_add_epi32(sums, _mm_shuffle_epi32(sums, _MM_SHUFFLE(2, 3, 0, 1)));
            *out = to_pixel(_mm_cvtsi128_si32(sums) + kRound);
        }
        return;
    }
#endif
    for (int x = 0; x < width; ++x, out += step) {
        const std::int16_t* in = row + table.first[static_cast<std::size_t>(x)];
        const std::int16_t* weights = &table.weights[static_cast<std::size_t>(x) * taps];
        std::int32_t sum = kRound;
        for (int k = 0; k < taps; ++k) sum += weights[k] * in[k];
        *out = to_pixel(sum);
    }
}

}  // namespace

void Resampler::resample(const cv::Mat& source, AxisMap x, AxisMap y, cv::Mat& target) {
    if ((source.type() != CV_8UC1 && source.type() != CV_8UC3) || target.type() != source.type() ||
        source.empty() || target.empty()) {
        throw Error("Resampler: needs non-empty 8-bit images with 1 or 3 channels");
    }
    build_table(x, source.cols, target.cols, tap_count(x.scale), columns_);
    build_table(y, source.rows, target.rows, tap_count(y.scale), rows_);
    const int channels = source.channels();
    const int samples = source.cols * channels;
    row_.resize(static_cast<std::size_t>(samples));
    planes_.resize(static_cast<std::size_t>(samples));
    rows_in_.resize(static_cast<std::size_t>(rows_.taps));
    for (int out_y = 0; out_y < target.rows; ++out_y) {
        const int first = rows_.first[static_cast<std::size_t>(out_y)];
        for (int k = 0; k < rows_.taps; ++k) {
            rows_in_[static_cast<std::size_t>(k)] = source.ptr<std::uint8_t>(first + k);
        }
        vertical_pass(rows_in_.data(), &rows_.weights[static_cast<std::size_t>(out_y) * rows_.taps],
                      rows_.taps, samples, row_.data());
        std::uint8_t* out = target.ptr<std::uint8_t>(out_y);
        if (channels == 1) {
            horizontal_pass(row_.data(), columns_, target.cols, out, 1);
            continue;
        }
        // Interleaved channels are filtered one plane at a time (contiguous taps).
        const auto columns = static_cast<std::size_t>(source.cols);
        const auto interleave = static_cast<std::size_t>(channels);
        for (std::size_t c = 0; c < interleave; ++c) {
            std::int16_t* plane = &planes_[c * columns];
            for (std::size_t i = 0; i < columns; ++i) plane[i] = row_[i * interleave + c];
            horizontal_pass(plane, columns_, target.cols, out + c, channels);
        }
    }
}

}  // namespace synshard::image
