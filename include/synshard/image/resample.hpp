#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

namespace synshard::image {

// Where one axis of a resampled image comes from: the output coordinate u (continuous,
// pixel i spans [i, i + 1)) samples the source at u * scale + offset.
struct AxisMap {
    double scale = 1;
    double offset = 0;
};

// A separable, antialiased resampler in fixed point: Catmull-Rom (Keys a = -0.5) cubic,
// stretched by the scale when shrinking so that it low-passes like a real downscale
// filter (no aliasing) and plain interpolation when enlarging. Source samples outside
// the image repeat the edge. Weights are computed with IEEE double arithmetic only
// (+ - * /, no libm) and the pixels with integer arithmetic only, so the output bytes
// depend on the inputs alone, not on the CPU's SIMD level or how the compiler vectorised.
// One per thread: it keeps its weight tables and row buffer between calls.
class Resampler {
  public:
    // The instruction sets the passes can use; every level computes the same bytes.
    enum class Simd { none, sse2, avx2 };
    // The best level this CPU and build run (checked once).
    static Simd best_simd();

    Resampler();  // at best_simd()
    // At `simd`, for the tests. Throws Error for a level above best_simd().
    explicit Resampler(Simd simd);

    // Resamples `source` (CV_8UC1 or CV_8UC3) into `target`, which must already have
    // its size and the same type. Throws Error for other types.
    void resample(const cv::Mat& source, AxisMap x, AxisMap y, cv::Mat& target);

    // The filter's weights: output sample i reads the source samples first[i] ..
    // first[i] + taps - 1 (clamped into the source) with weights[i * taps + k], which
    // sum to 1 << kWeightBits. Public for the tests.
    struct Table {
        int taps = 0;
        std::vector<int> first;
        std::vector<std::int16_t> weights;
        // What the table was built for; resample() reuses it for the same axis.
        AxisMap map;
        int source_length = 0;
        int target_length = 0;
    };
    static constexpr int kWeightBits = 14;
    // Fraction bits of a vertically filtered sample (int16): 255 * 64 with the cubic's
    // overshoot stays well inside. The output pixel at (x, y) is, exactly,
    //   v(i) = (sum_k rows.weights[y][k] * source[rows.first[y] + k][i] + 2^7) >> 8
    //   clamp((sum_k columns.weights[x][k] * v(columns.first[x] + k) + 2^19) >> 20, 0, 255)
    // with the shifts kWeightBits -+ kRowBits (per channel for interleaved images).
    static constexpr int kRowBits = 6;
    // The horizontal pass reads the columns' taps in whole groups of 4.
    static constexpr int kColumnTapMultiple = 4;
    // The table for `map`: as few taps as hold every output's nonzero weights, rounded up
    // to a multiple of `tap_multiple` (fewer only for a shorter source). Each weight is
    // the filter's over its whole support, rounded: the taps count never changes a sum.
    static void build_table(AxisMap map, int source_length, int target_length, int tap_multiple,
                            Table& table);
    // How many tables this resampler has built, for the tests of the ones it keeps.
    std::uint64_t tables_built() const { return tables_built_; }

  private:
    // ImageNet's photos come in a few sizes, mixed (500x375, 500x333, 375x500...): the
    // tables of the most recent ones are kept, so that each is built about once a run.
    static constexpr std::size_t kKeptTables = 32;
    // The table for `map` from `kept` (most recently used first), built if it is not there.
    const Table& kept_table(std::vector<Table>& kept, AxisMap map, int source_length,
                            int target_length, int tap_multiple);

    Simd simd_;
    std::vector<Table> column_tables_;
    std::vector<Table> row_tables_;
    std::vector<const std::uint8_t*> rows_in_;  // the source rows one output row reads
    std::vector<std::int16_t> row_;             // one vertically filtered row, in fixed point
    std::vector<std::int16_t> planes_;          // row_ one channel after the other
    std::vector<std::int32_t> weight_pairs_;    // one output row's taps, packed in pairs
    std::uint64_t tables_built_ = 0;
};

}  // namespace synshard::image
