#include "synshard/image/resample.hpp"

#include <algorithm>
#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "synshard/util/error.hpp"

namespace synshard::image {
namespace {

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
    const double support = kRadius * std::max(scale, 1.0);
    return static_cast<int>(std::ceil(2 * support)) + 1;
}

int Resampler::row_tap_count(double scale) {
    // Taps beyond the support get weight zero.
    return (tap_count(scale) + 3) / 4 * 4;  // whole groups of 4 for the SSE2 pass
}

void Resampler::build_table(AxisMap map, int source_length, int target_length, int taps,
                            Table& table) {
    const double stretch = std::max(map.scale, 1.0);
    const double support = kRadius * stretch;
    // A source shorter than the filter: every output reads all of it.
    taps = std::min(taps, source_length);
    table.map = map;
    table.source_length = source_length;
    table.target_length = target_length;
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
constexpr int kVerticalShift = Resampler::kWeightBits - Resampler::kRowBits;
constexpr int kHorizontalShift = Resampler::kWeightBits + Resampler::kRowBits;

// One output row at source width from `taps` source rows (`in`), in fixed point with
// kRowBits fraction bits. The SSE2 path computes exactly what the scalar loop does
// (pmaddwd is an exact 16 x 16 -> 32-bit multiply-add), 16 samples at a time with the
// weights of each pair of taps packed once per row.
void vertical_pass(const std::uint8_t* const* in, const std::int16_t* weights, int taps,
                   int samples, std::int16_t* row, std::vector<std::int32_t>& pairs) {
    constexpr std::int32_t kRound = 1 << (kVerticalShift - 1);
    int i = 0;
#if defined(__SSE2__)
    // Taps in pairs; an odd last tap pairs with itself at weight zero.
    pairs.resize(static_cast<std::size_t>((taps + 1) / 2));
    for (int k = 0; k < taps; k += 2) {
        const auto high =
            k + 1 < taps ? static_cast<std::uint32_t>(static_cast<std::uint16_t>(weights[k + 1]))
                         : 0U;
        pairs[static_cast<std::size_t>(k / 2)] = static_cast<std::int32_t>(
            static_cast<std::uint32_t>(static_cast<std::uint16_t>(weights[k])) | (high << 16));
    }
    const __m128i zero = _mm_setzero_si128();
    const __m128i round = _mm_set1_epi32(kRound);
    const auto widen = [&](int k, int at) {
        return k < taps ? _mm_unpacklo_epi8(
                              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in[k] + at)), zero)
                        : zero;
    };
    const auto store = [&](int at, __m128i low, __m128i high) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(row + at),
                         _mm_packs_epi32(_mm_srai_epi32(low, kVerticalShift),
                                         _mm_srai_epi32(high, kVerticalShift)));
    };
    for (; i + 16 <= samples; i += 16) {
        __m128i first_low = round;
        __m128i first_high = round;
        __m128i second_low = round;
        __m128i second_high = round;
        for (int k = 0; k < taps; k += 2) {
            const __m128i w = _mm_set1_epi32(pairs[static_cast<std::size_t>(k / 2)]);
            const auto accumulate = [&](int at, __m128i& low, __m128i& high) {
                const __m128i a = widen(k, at);
                const __m128i b = widen(k + 1, at);
                low = _mm_add_epi32(low, _mm_madd_epi16(_mm_unpacklo_epi16(a, b), w));
                high = _mm_add_epi32(high, _mm_madd_epi16(_mm_unpackhi_epi16(a, b), w));
            };
            accumulate(i, first_low, first_high);
            accumulate(i + 8, second_low, second_high);
        }
        store(i, first_low, first_high);
        store(i + 8, second_low, second_high);
    }
#else
    static_cast<void>(pairs);
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
// vertically filtered row. The SSE2 path computes exactly what the scalar loop does, four
// output samples at a time: pmaddwd products are exact, the four partial sums of each
// output are added by a transpose, and saturating packs clamp to 0..255 like to_pixel.
void horizontal_pass(const std::int16_t* row, const Resampler::Table& table, int width,
                     std::uint8_t* out, int step) {
    constexpr std::int32_t kRound = 1 << (kHorizontalShift - 1);
    const int taps = table.taps;
    int x = 0;
#if defined(__SSE2__)
    if (taps % 4 == 0) {
        const auto partial_sums = [&](int output) {
            const std::int16_t* in = row + table.first[static_cast<std::size_t>(output)];
            const std::int16_t* weights =
                &table.weights[static_cast<std::size_t>(output) * static_cast<std::size_t>(taps)];
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
            return sums;
        };
        const __m128i round = _mm_set1_epi32(kRound);
        for (; x + 4 <= width; x += 4) {
            const __m128i a = partial_sums(x);
            const __m128i b = partial_sums(x + 1);
            const __m128i c = partial_sums(x + 2);
            const __m128i d = partial_sums(x + 3);
            // [a0+a2, b0+b2, a1+a3, b1+b3] and the same for c, d; then one sum per lane.
            const __m128i ab = _mm_add_epi32(_mm_unpacklo_epi32(a, b), _mm_unpackhi_epi32(a, b));
            const __m128i cd = _mm_add_epi32(_mm_unpacklo_epi32(c, d), _mm_unpackhi_epi32(c, d));
            const __m128i sums = _mm_add_epi32(
                _mm_add_epi32(_mm_unpacklo_epi64(ab, cd), _mm_unpackhi_epi64(ab, cd)), round);
            const __m128i shifted = _mm_srai_epi32(sums, kHorizontalShift);
            const __m128i words = _mm_packs_epi32(shifted, shifted);
            const auto pixels =
                static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_packus_epi16(words, words)));
            for (int i = 0; i < 4; ++i, out += step) {
                *out = static_cast<std::uint8_t>(pixels >> (8 * i));
            }
        }
    }
#endif
    for (; x < width; ++x, out += step) {
        const std::int16_t* in = row + table.first[static_cast<std::size_t>(x)];
        const std::int16_t* weights =
            &table.weights[static_cast<std::size_t>(x) * static_cast<std::size_t>(taps)];
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
    // Runs of same-sized images (most of ImageNet is 500x375) reuse the tables.
    const auto prepare = [](AxisMap map, int source_length, int target_length, int taps,
                            Table& table) {
        if (table.map.scale != map.scale || table.map.offset != map.offset ||
            table.source_length != source_length || table.target_length != target_length) {
            build_table(map, source_length, target_length, taps, table);
        }
    };
    prepare(x, source.cols, target.cols, row_tap_count(x.scale), columns_);
    prepare(y, source.rows, target.rows, tap_count(y.scale), rows_);
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
                      rows_.taps, samples, row_.data(), weight_pairs_);
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
