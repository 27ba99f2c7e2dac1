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
    // How many source samples an output sample reads at `scale`: every one the filter
    // reaches, plus one (a window starting at any offset covers the support).
    static int tap_count(double scale);
    // tap_count rounded up to a multiple of 4, as the horizontal pass along a row reads.
    static int row_tap_count(double scale);
    // The table for `map`: at most `taps` taps (fewer only for a shorter source).
    static void build_table(AxisMap map, int source_length, int target_length, int taps,
                            Table& table);

  private:
    Table columns_;
    Table rows_;
    std::vector<const std::uint8_t*> rows_in_;  // the source rows one output row reads
    std::vector<std::int16_t> row_;             // one vertically filtered row, in fixed point
    std::vector<std::int16_t> planes_;          // row_ one channel after the other
    std::vector<std::int32_t> weight_pairs_;    // one output row's taps, packed in pairs
};

}  // namespace synshard::image
