#include "synshard/image/resample.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>

// Compilers that define __SSE2__ (GCC, clang) also have the target attribute and
// __builtin_cpu_supports the AVX2 passes need.
#if defined(__SSE2__)
#include <immintrin.h>
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

// Sizes `table` for `taps` taps per output, its weights all zero.
void reset_table(AxisMap map, int source_length, int target_length, int taps,
                 Resampler::Table& table) {
    table.map = map;
    table.source_length = source_length;
    table.target_length = target_length;
    table.taps = taps;
    table.first.resize(static_cast<std::size_t>(target_length));
    table.weights.assign(static_cast<std::size_t>(target_length) * static_cast<std::size_t>(taps),
                         0);
}

// The filter over a window one sample wider than its support, which holds every sample
// it reaches from any centre.
void build_wide_table(AxisMap map, int source_length, int target_length, Resampler::Table& table) {
    const double stretch = std::max(map.scale, 1.0);
    const double support = kRadius * stretch;
    // A source shorter than the filter: every output reads all of it.
    const int taps = std::min(static_cast<int>(std::ceil(2 * support)) + 1, source_length);
    reset_table(map, source_length, target_length, taps, table);
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
            const double scaled =
                folded[static_cast<std::size_t>(k)] / total * (1 << Resampler::kWeightBits);
            weights[k] = static_cast<std::int16_t>(std::floor(scaled + 0.5));
            sum += weights[k];
            if (weights[k] > weights[largest]) largest = k;
        }
        // Rounding leaves the sum a little off one: the largest weight takes the rest, so
        // flat areas stay exactly flat.
        weights[largest] =
            static_cast<std::int16_t>(weights[largest] + (1 << Resampler::kWeightBits) - sum);
    }
}

// Output i's weights from its first nonzero one to its last.
std::span<const std::int16_t> nonzero_weights(const Resampler::Table& table, int i) {
    const auto taps = static_cast<std::size_t>(table.taps);
    const std::span<const std::int16_t> weights(&table.weights[static_cast<std::size_t>(i) * taps],
                                                taps);
    const auto nonzero = [](std::int16_t weight) { return weight != 0; };
    const auto low = std::find_if(weights.begin(), weights.end(), nonzero);
    const auto high = std::find_if(weights.rbegin(), weights.rend(), nonzero).base();
    return {low, high};
}

}  // namespace

void Resampler::build_table(AxisMap map, int source_length, int target_length, int tap_multiple,
                            Table& table) {
    Table wide;
    build_wide_table(map, source_length, target_length, wide);
    // The wide window mostly starts one sample before the support, and the cubic's ends
    // round to zero weight (shrinking by 1.1, every output reads 5 of the 6 samples): the
    // narrowest window holding every output's nonzero weights gives the same sums.
    int taps = 1;
    for (int i = 0; i < target_length; ++i) {
        taps = std::max(taps, static_cast<int>(nonzero_weights(wide, i).size()));
    }
    taps = std::min((taps + tap_multiple - 1) / tap_multiple * tap_multiple, source_length);
    reset_table(map, source_length, target_length, taps, table);
    for (int i = 0; i < target_length; ++i) {
        const auto output = static_cast<std::size_t>(i);
        const std::int16_t* wide_weights =
            &wide.weights[output * static_cast<std::size_t>(wide.taps)];
        const std::span<const std::int16_t> weights = nonzero_weights(wide, i);
        // The source sample of the first nonzero weight, and the window that holds them all.
        const int low = wide.first[output] + static_cast<int>(weights.data() - wide_weights);
        const int base = std::clamp(low, 0, source_length - taps);
        table.first[output] = base;
        std::copy(weights.begin(), weights.end(),
                  &table.weights[output * static_cast<std::size_t>(taps)] + (low - base));
    }
}

namespace {

constexpr int kVerticalShift = Resampler::kWeightBits - Resampler::kRowBits;
constexpr int kHorizontalShift = Resampler::kWeightBits + Resampler::kRowBits;
constexpr std::int32_t kVerticalRound = 1 << (kVerticalShift - 1);
constexpr std::int32_t kHorizontalRound = 1 << (kHorizontalShift - 1);

// The vertical pass makes one row at source width from `taps` source rows (`in`), in
// fixed point with kRowBits fraction bits; the horizontal pass makes one channel of an
// output row (every `step`-th byte of `out`) from one channel of such a row. The SIMD
// versions compute exactly what the scalar loops do: pmaddwd is an exact
// 16 x 16 -> 32-bit multiply-add, the int32 sums cannot overflow and saturating packs
// clamp like to_pixel.
using VerticalPass = void (*)(const std::uint8_t* const* in, const std::int16_t* weights, int taps,
                              int samples, std::int16_t* row, std::vector<std::int32_t>& pairs);
using HorizontalPass = void (*)(const std::int16_t* row, const Resampler::Table& table, int width,
                                std::uint8_t* out, int step);

// Samples from..samples - 1 of the vertical pass.
void vertical_samples(const std::uint8_t* const* in, const std::int16_t* weights, int taps,
                      int from, int samples, std::int16_t* row) {
    for (int i = from; i < samples; ++i) {
        std::int32_t sum = kVerticalRound;
        for (int k = 0; k < taps; ++k) sum += weights[k] * in[k][i];
        row[i] = static_cast<std::int16_t>(sum >> kVerticalShift);
    }
}

void vertical_pass_scalar(const std::uint8_t* const* in, const std::int16_t* weights, int taps,
                          int samples, std::int16_t* row, std::vector<std::int32_t>& /*pairs*/) {
    vertical_samples(in, weights, taps, 0, samples, row);
}

std::uint8_t to_pixel(std::int32_t sum) {
    return static_cast<std::uint8_t>(std::clamp(sum >> kHorizontalShift, 0, 255));
}

// Outputs from..width - 1 of the horizontal pass; `out` is output `from`'s byte.
void horizontal_outputs(const std::int16_t* row, const Resampler::Table& table, int from, int width,
                        std::uint8_t* out, int step) {
    const int taps = table.taps;
    for (int x = from; x < width; ++x, out += step) {
        const std::int16_t* in = row + table.first[static_cast<std::size_t>(x)];
        const std::int16_t* weights =
            &table.weights[static_cast<std::size_t>(x) * static_cast<std::size_t>(taps)];
        std::int32_t sum = kHorizontalRound;
        for (int k = 0; k < taps; ++k) sum += weights[k] * in[k];
        *out = to_pixel(sum);
    }
}

void horizontal_pass_scalar(const std::int16_t* row, const Resampler::Table& table, int width,
                            std::uint8_t* out, int step) {
    horizontal_outputs(row, table, 0, width, out, step);
}

#if defined(__SSE2__)

// The taps' weights in pairs, for pmaddwd; an odd last tap pairs with itself at weight zero.
void pack_pairs(const std::int16_t* weights, int taps, std::vector<std::int32_t>& pairs) {
    pairs.resize(static_cast<std::size_t>((taps + 1) / 2));
    for (int k = 0; k < taps; k += 2) {
        const auto high =
            k + 1 < taps ? static_cast<std::uint32_t>(static_cast<std::uint16_t>(weights[k + 1]))
                         : 0U;
        pairs[static_cast<std::size_t>(k / 2)] = static_cast<std::int32_t>(
            static_cast<std::uint32_t>(static_cast<std::uint16_t>(weights[k])) | (high << 16));
    }
}

// 16 samples at a time.
void vertical_pass_sse2(const std::uint8_t* const* in, const std::int16_t* weights, int taps,
                        int samples, std::int16_t* row, std::vector<std::int32_t>& pairs) {
    pack_pairs(weights, taps, pairs);
    const __m128i zero = _mm_setzero_si128();
    const __m128i round = _mm_set1_epi32(kVerticalRound);
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
    int i = 0;
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
    vertical_samples(in, weights, taps, i, samples, row);
}

// Four outputs at a time, when the taps come in groups of 4; the four partial sums of
// each output are added by a transpose.
void horizontal_pass_sse2(const std::int16_t* row, const Resampler::Table& table, int width,
                          std::uint8_t* out, int step) {
    const int taps = table.taps;
    int x = 0;
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
        const __m128i round = _mm_set1_epi32(kHorizontalRound);
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
    horizontal_outputs(row, table, x, width, out, step);
}

// The AVX2 passes do what the SSE2 ones do, twice as wide. Only they are compiled for
// AVX2 (the target attribute), so the binary still runs where best_simd() is SSE2; they
// use no lambdas, which would not inherit the attribute.

__attribute__((target("avx2"), always_inline)) inline __m256i widen_avx2(
    const std::uint8_t* samples) {
    return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(samples)));
}

// Samples i .. i + 15.
__attribute__((target("avx2"), always_inline)) inline void vertical_block_avx2(
    const std::uint8_t* const* in, const std::int32_t* pairs, int taps, int i, std::int16_t* row) {
    const __m256i round = _mm256_set1_epi32(kVerticalRound);
    __m256i low = round;
    __m256i high = round;
    for (int k = 0; k < taps; k += 2) {
        const __m256i a = widen_avx2(in[k] + i);
        const __m256i b = k + 1 < taps ? widen_avx2(in[k + 1] + i) : _mm256_setzero_si256();
        const __m256i w = _mm256_set1_epi32(pairs[k / 2]);
        low = _mm256_add_epi32(low, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), w));
        high = _mm256_add_epi32(high, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), w));
    }
    // In each 128-bit lane `low` holds samples 0-3 (8-11) and `high` 4-7 (12-15): the
    // lane-wise pack puts them back in order.
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(row + i),
                        _mm256_packs_epi32(_mm256_srai_epi32(low, kVerticalShift),
                                           _mm256_srai_epi32(high, kVerticalShift)));
}

// 16 samples at a time.
__attribute__((target("avx2"))) void vertical_pass_avx2(const std::uint8_t* const* in,
                                                        const std::int16_t* weights, int taps,
                                                        int samples, std::int16_t* row,
                                                        std::vector<std::int32_t>& pairs) {
    if (samples < 16) {
        vertical_samples(in, weights, taps, 0, samples, row);
        return;
    }
    pack_pairs(weights, taps, pairs);
    for (int i = 0; i < samples; i += 16) {
        // The last block overlaps the one before: it writes the same values again.
        vertical_block_avx2(in, pairs.data(), taps, std::min(i, samples - 16), row);
    }
}

__attribute__((target("avx2"), always_inline)) inline __m256i load_lanes(const std::int16_t* low,
                                                                         const std::int16_t* high) {
    return _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(low))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(high)), 1);
}

__attribute__((target("avx2"), always_inline)) inline __m256i load_half_lanes(
    const std::int16_t* low, const std::int16_t* high) {
    return _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(low))),
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(high)), 1);
}

// The partial sums of output x in the low lane, of output x + 4 in the high lane.
__attribute__((target("avx2"), always_inline)) inline __m256i partial_sums_avx2(
    const std::int16_t* row, const int* first, const std::int16_t* weights, std::size_t taps,
    std::size_t x) {
    const std::int16_t* low_in = row + first[x];
    const std::int16_t* high_in = row + first[x + 4];
    const std::int16_t* low_weights = weights + x * taps;
    const std::int16_t* high_weights = low_weights + 4 * taps;
    __m256i sums = _mm256_setzero_si256();
    std::size_t k = 0;
    for (; k + 8 <= taps; k += 8) {
        sums = _mm256_add_epi32(sums,
                                _mm256_madd_epi16(load_lanes(low_in + k, high_in + k),
                                                  load_lanes(low_weights + k, high_weights + k)));
    }
    if (k < taps) {
        sums = _mm256_add_epi32(
            sums, _mm256_madd_epi16(load_half_lanes(low_in + k, high_in + k),
                                    load_half_lanes(low_weights + k, high_weights + k)));
    }
    return sums;
}

// All outputs (at least 8), 8 at a time.
__attribute__((target("avx2"), always_inline)) inline void horizontal_blocks_avx2(
    const std::int16_t* row, const int* first, const std::int16_t* weights, std::size_t taps,
    int width, std::uint8_t* out, int step) {
    const __m256i round = _mm256_set1_epi32(kHorizontalRound);
    for (int x = 0; x < width; x += 8) {
        // The last block overlaps the one before: it writes the same values again.
        const auto at = static_cast<std::size_t>(std::min(x, width - 8));
        std::uint8_t* block = out + at * static_cast<std::size_t>(step);
        const __m256i a = partial_sums_avx2(row, first, weights, taps, at);
        const __m256i b = partial_sums_avx2(row, first, weights, taps, at + 1);
        const __m256i c = partial_sums_avx2(row, first, weights, taps, at + 2);
        const __m256i d = partial_sums_avx2(row, first, weights, taps, at + 3);
        // Per lane [a0+a1, a2+a3, b0+b1, b2+b3] and the same for c, d; then the sums of
        // outputs at .. at + 3 in the low lane, at + 4 .. at + 7 in the high one.
        const __m256i sums = _mm256_add_epi32(
            _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d)), round);
        const __m256i shifted = _mm256_srai_epi32(sums, kHorizontalShift);
        const __m128i words =
            _mm_packs_epi32(_mm256_castsi256_si128(shifted), _mm256_extracti128_si256(shifted, 1));
        const __m128i pixels = _mm_packus_epi16(words, words);
        if (step == 1) {
            _mm_storel_epi64(reinterpret_cast<__m128i*>(block), pixels);
            continue;
        }
        std::array<std::uint8_t, 8> bytes{};
        _mm_storel_epi64(reinterpret_cast<__m128i*>(bytes.data()), pixels);
        for (const std::uint8_t pixel : bytes) {
            *block = pixel;
            block += step;
        }
    }
}

// Eight outputs at a time, when the taps come in groups of 4.
__attribute__((target("avx2"))) void horizontal_pass_avx2(const std::int16_t* row,
                                                          const Resampler::Table& table, int width,
                                                          std::uint8_t* out, int step) {
    // Locals, not table's members: the byte stores to `out` may alias anything.
    const int* first = table.first.data();
    const std::int16_t* weights = table.weights.data();
    const auto taps = static_cast<std::size_t>(table.taps);
    if (width < 8 || taps % 4 != 0) {
        horizontal_outputs(row, table, 0, width, out, step);
    } else if (taps == 8) {
        // Shrinking by less than 1.75, as DCT-scaled decodes leave: the taps as a constant.
        horizontal_blocks_avx2(row, first, weights, 8, width, out, step);
    } else {
        horizontal_blocks_avx2(row, first, weights, taps, width, out, step);
    }
}

#endif

struct Passes {
    VerticalPass vertical;
    HorizontalPass horizontal;
};

Passes passes_at(Resampler::Simd simd) {
    switch (simd) {
#if defined(__SSE2__)
        case Resampler::Simd::avx2:
            return {vertical_pass_avx2, horizontal_pass_avx2};
        case Resampler::Simd::sse2:
            return {vertical_pass_sse2, horizontal_pass_sse2};
#endif
        default:
            return {vertical_pass_scalar, horizontal_pass_scalar};
    }
}

}  // namespace

Resampler::Simd Resampler::best_simd() {
#if defined(__SSE2__)
    static const Simd best = __builtin_cpu_supports("avx2") ? Simd::avx2 : Simd::sse2;
    return best;
#else
    return Simd::none;
#endif
}

Resampler::Resampler() : simd_(best_simd()) {}

Resampler::Resampler(Simd simd) : simd_(simd) {
    if (simd > best_simd()) throw Error("Resampler: this CPU or build lacks that SIMD level");
}

const Resampler::Table& Resampler::kept_table(std::vector<Table>& kept, AxisMap map,
                                              int source_length, int target_length,
                                              int tap_multiple) {
    auto found = std::find_if(kept.begin(), kept.end(), [&](const Table& table) {
        return table.map.scale == map.scale && table.map.offset == map.offset &&
               table.source_length == source_length && table.target_length == target_length;
    });
    if (found == kept.end()) {
        if (kept.size() < kKeptTables) kept.emplace_back();
        found = kept.end() - 1;  // the new one, or the least recently used
        try {
            build_table(map, source_length, target_length, tap_multiple, *found);
        } catch (...) {
            kept.erase(found);  // half built, but already named for this map
            throw;
        }
        ++tables_built_;
    }
    std::rotate(kept.begin(), found, found + 1);
    return kept.front();
}

void Resampler::resample(const cv::Mat& source, AxisMap x, AxisMap y, cv::Mat& target) {
    if ((source.type() != CV_8UC1 && source.type() != CV_8UC3) || target.type() != source.type() ||
        source.empty() || target.empty()) {
        throw Error("Resampler: needs non-empty 8-bit images with 1 or 3 channels");
    }
    const Table& columns =
        kept_table(column_tables_, x, source.cols, target.cols, kColumnTapMultiple);
    const Table& rows = kept_table(row_tables_, y, source.rows, target.rows, 1);
    const Passes passes = passes_at(simd_);
    const int channels = source.channels();
    const int samples = source.cols * channels;
    row_.resize(static_cast<std::size_t>(samples));
    planes_.resize(static_cast<std::size_t>(samples));
    rows_in_.resize(static_cast<std::size_t>(rows.taps));
    for (int out_y = 0; out_y < target.rows; ++out_y) {
        const int first = rows.first[static_cast<std::size_t>(out_y)];
        for (int k = 0; k < rows.taps; ++k) {
            rows_in_[static_cast<std::size_t>(k)] = source.ptr<std::uint8_t>(first + k);
        }
        passes.vertical(rows_in_.data(), &rows.weights[static_cast<std::size_t>(out_y) * rows.taps],
                        rows.taps, samples, row_.data(), weight_pairs_);
        std::uint8_t* out = target.ptr<std::uint8_t>(out_y);
        if (channels == 1) {
            passes.horizontal(row_.data(), columns, target.cols, out, 1);
            continue;
        }
        // Interleaved channels are filtered one plane at a time (contiguous taps).
        const auto width = static_cast<std::size_t>(source.cols);
        const auto interleave = static_cast<std::size_t>(channels);
        for (std::size_t c = 0; c < interleave; ++c) {
            std::int16_t* plane = &planes_[c * width];
            for (std::size_t i = 0; i < width; ++i) plane[i] = row_[i * interleave + c];
            passes.horizontal(plane, columns, target.cols, out + c, channels);
        }
    }
}

}  // namespace synshard::image
