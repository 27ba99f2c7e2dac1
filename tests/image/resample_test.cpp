#include "synshard/image/resample.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "image/image_samples.hpp"

namespace synshard::image {
namespace {

TEST(Resampler, ScaleOneIsTheIdentity) {
    const cv::Mat source = testing::photo_like(123, 77, 5);
    cv::Mat target(source.rows, source.cols, CV_8UC3);
    Resampler resampler;
    resampler.resample(source, {1, 0}, {1, 0}, target);
    EXPECT_EQ(cv::norm(source, target, cv::NORM_INF), 0);
}

TEST(Resampler, FlatStaysFlatAtAnyScale) {
    const cv::Mat source(375, 500, CV_8UC1, cv::Scalar(173));
    Resampler resampler;
    for (const double scale : {0.5, 1.0, 1.46, 1.9, 3.7}) {
        cv::Mat target(static_cast<int>(375 / scale), static_cast<int>(500 / scale), CV_8UC1);
        resampler.resample(source, {scale, 0.3}, {scale, -0.2}, target);
        EXPECT_EQ(cv::norm(target - 173, cv::NORM_INF), 0) << scale;
        EXPECT_EQ(cv::norm(173 - target, cv::NORM_INF), 0) << scale;
    }
}

TEST(Resampler, WeightsSumToOneAndStayInsideTheSource) {
    Resampler::Table table;
    for (const double scale : {0.4, 1.0, 1.46, 2.5}) {
        Resampler::build_table({scale, 0}, 100, static_cast<int>(100 / scale), 1, table);
        for (std::size_t i = 0; i < table.first.size(); ++i) {
            int sum = 0;
            for (int k = 0; k < table.taps; ++k) sum += table.weights[i * table.taps + k];
            EXPECT_EQ(sum, 1 << Resampler::kWeightBits);
            EXPECT_GE(table.first[i], 0);
            EXPECT_LE(table.first[i] + table.taps, 100);
        }
    }
}

// The widest run of taps, over all outputs, from a nonzero weight to a nonzero weight.
int widest_nonzero_span(const Resampler::Table& table) {
    int widest = 0;
    for (std::size_t i = 0; i < table.first.size(); ++i) {
        const auto* weights = &table.weights[i * static_cast<std::size_t>(table.taps)];
        int low = table.taps;
        int high = -1;
        for (int k = 0; k < table.taps; ++k) {
            if (weights[k] == 0) continue;
            low = std::min(low, k);
            high = k;
        }
        widest = std::max(widest, high - low + 1);
    }
    return widest;
}

TEST(Resampler, TablesHoldNoMoreTapsThanTheFilterReaches) {
    // The scales of DCT-scaled decodes at shorter:256 (ImageNet's 500x375 decoded at 6/8,
    // 333 rows at 7/8, a 2000x1500 photo at 2/8), a downscale, the identity and an
    // enlargement.
    struct Case {
        double scale;
        double offset;
        int source;
        int taps;  // the widest nonzero span, known from the filter's support
    };
    const Case cases[] = {{281.25 / 256, 0, 282, 5},
                          {291.375 / 256, 0.5, 292, 5},
                          {375.0 / 256, 0, 375, 6},
                          {3.7, 0, 500, 15},
                          {1, 0, 64, 1},
                          {0.7, 0.1, 64, 4}};
    Resampler::Table table;
    for (const Case& c : cases) {
        Resampler::build_table({c.scale, c.offset}, c.source, static_cast<int>(c.source / c.scale),
                               1, table);
        EXPECT_EQ(table.taps, c.taps) << c.scale;
        EXPECT_EQ(widest_nonzero_span(table), table.taps) << c.scale;
        // Padded to whole groups of 4 for the horizontal pass.
        Resampler::build_table({c.scale, c.offset}, c.source, static_cast<int>(c.source / c.scale),
                               4, table);
        EXPECT_EQ(table.taps, (c.taps + 3) / 4 * 4) << c.scale;
    }
}

// FNV-1a over the pixels.
std::uint64_t fingerprint(const cv::Mat& image) {
    std::uint64_t hash = 14695981039346656037ULL;
    for (int y = 0; y < image.rows; ++y) {
        const auto* row = image.ptr<std::uint8_t>(y);
        for (std::size_t i = 0; i < image.cols * image.elemSize(); ++i) {
            hash = (hash ^ row[i]) * 1099511628211ULL;
        }
    }
    return hash;
}

TEST(Resampler, OutputsTheBytesOfTheWideTablesItHadBefore) {
    // Shard bytes depend on these: fingerprints from the resampler of commit 4a1d3fc, which
    // read one tap more than the filter reaches (two more in the horizontal pass at scale
    // 1), on ImageNet's planes at shorter:256 (luma and chroma of 500x375 decoded at 6/8),
    // a 2/8 decode of a large photo, an interleaved crop and an enlargement.
    struct Case {
        cv::Size source;
        int channels;
        AxisMap x;
        AxisMap y;
        cv::Size target;
        std::uint64_t fingerprint;
    };
    const Case cases[] = {
        {{376, 288}, 1, {281.25 / 256, 0}, {281.25 / 256, 0}, {342, 256}, 324261793640051629ULL},
        {{188, 144}, 1, {281.25 / 256, 0}, {281.25 / 256, 0}, {171, 128}, 15832795542364200815ULL},
        {{504, 376}, 1, {375.0 / 256, 0}, {375.0 / 256, 0}, {342, 256}, 10330061591758336372ULL},
        {{300, 200}, 3, {1.3, 7.25}, {1.3, 0.5}, {200, 150}, 3146272932618817748ULL},
        {{97, 83}, 3, {0.7, 0}, {0.45, 0.2}, {131, 180}, 6179791380867844250ULL}};
    for (const Case& c : cases) {
        const cv::Mat rgb = testing::photo_like(c.source.width, c.source.height, 11, 23);
        cv::Mat source;
        if (c.channels == 1) {
            cv::extractChannel(rgb, source, 1);
        } else {
            source = rgb;
        }
        cv::Mat target(c.target, source.type());
        Resampler().resample(source, c.x, c.y, target);
        EXPECT_EQ(fingerprint(target), c.fingerprint) << c.source << " -> " << c.target;
    }
}

// ImageNet's luma planes at shorter:256: 500x375, 375x500 and 500x333, decoded at 6/8.
struct PlaneCase {
    cv::Size source;
    AxisMap x;
    AxisMap y;
    cv::Size target;
};
const PlaneCase kImageNetPlanes[] = {
    {{376, 288}, {281.25 / 256, 0}, {281.25 / 256, 0}, {342, 256}},
    {{288, 376}, {281.25 / 256, 0}, {281.25 / 256, 0}, {256, 342}},
    {{376, 256}, {249.75 / 256, 0}, {249.75 / 256, 0}, {384, 256}}};

TEST(Resampler, BuildsEachSizesTablesOnceWhenSizesAlternate) {
    // Photos of a few sizes, mixed: the tables of each size are kept, not rebuilt.
    Resampler resampler;
    for (int round = 0; round < 3; ++round) {
        for (const PlaneCase& c : kImageNetPlanes) {
            const cv::Mat source(c.source, CV_8UC1, cv::Scalar(90));
            cv::Mat target(c.target, CV_8UC1);
            resampler.resample(source, c.x, c.y, target);
        }
        EXPECT_EQ(resampler.tables_built(), 2 * std::size(kImageNetPlanes)) << "round " << round;
    }
}

TEST(Resampler, KeptTablesGiveTheBytesOfAFreshResampler) {
    // The same lengths at another offset or scale are another table.
    std::vector<PlaneCase> cases(std::begin(kImageNetPlanes), std::end(kImageNetPlanes));
    cases.push_back({{376, 288}, {281.25 / 256, 0.25}, {281.25 / 256, 0}, {342, 256}});
    cases.push_back({{376, 288}, {281.25 / 256, 0}, {281.0 / 256, 0}, {342, 256}});
    Resampler kept;
    for (int round = 0; round < 2; ++round) {
        for (std::size_t i = 0; i < cases.size(); ++i) {
            const PlaneCase& c = cases[i];
            cv::Mat source;
            cv::extractChannel(testing::photo_like(c.source.width, c.source.height, 11, 23), source,
                               1);
            cv::Mat fresh(c.target, CV_8UC1);
            Resampler().resample(source, c.x, c.y, fresh);
            cv::Mat reused(c.target, CV_8UC1);
            kept.resample(source, c.x, c.y, reused);
            EXPECT_EQ(cv::norm(fresh, reused, cv::NORM_INF), 0) << "case " << i;
        }
    }
    EXPECT_EQ(kept.tables_built(), 2 * std::size(kImageNetPlanes) + 2);
}

// The fixed-point formula of resample.hpp, one sample at a time, from the public tables.
cv::Mat reference_resample(const cv::Mat& source, AxisMap x, AxisMap y, cv::Size size) {
    Resampler::Table columns;
    Resampler::Table rows;
    Resampler::build_table(x, source.cols, size.width, Resampler::kColumnTapMultiple, columns);
    Resampler::build_table(y, source.rows, size.height, 1, rows);
    const int channels = source.channels();
    const int vertical_shift = Resampler::kWeightBits - Resampler::kRowBits;
    const int horizontal_shift = Resampler::kWeightBits + Resampler::kRowBits;
    cv::Mat target(size, source.type());
    std::vector<std::int32_t> row(static_cast<std::size_t>(source.cols * channels));
    for (int out_y = 0; out_y < size.height; ++out_y) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            std::int32_t sum = 1 << (vertical_shift - 1);
            for (int k = 0; k < rows.taps; ++k) {
                sum += rows.weights[static_cast<std::size_t>(out_y * rows.taps + k)] *
                       source.ptr<std::uint8_t>(rows.first[static_cast<std::size_t>(out_y)] + k)[i];
            }
            row[i] = static_cast<std::int16_t>(sum >> vertical_shift);
        }
        for (int out_x = 0; out_x < size.width; ++out_x) {
            for (int c = 0; c < channels; ++c) {
                std::int32_t sum = 1 << (horizontal_shift - 1);
                for (int k = 0; k < columns.taps; ++k) {
                    const int column = columns.first[static_cast<std::size_t>(out_x)] + k;
                    sum += columns.weights[static_cast<std::size_t>(out_x * columns.taps + k)] *
                           row[static_cast<std::size_t>(column * channels + c)];
                }
                target.ptr<std::uint8_t>(out_y)[out_x * channels + c] =
                    static_cast<std::uint8_t>(std::clamp(sum >> horizontal_shift, 0, 255));
            }
        }
    }
    return target;
}

TEST(Resampler, SimdPassesComputeExactlyTheFixedPointFormula) {
    struct Case {
        cv::Size source;
        cv::Size target;
        double offset;
    };
    // Shrinking by ~1.1 (ImageNet at shorter:256 after DCT scaling), by 1.5-8 (wide
    // filters, taps beyond 8), enlarging, odd widths (the scalar tails) and crops.
    const Case cases[] = {{{375, 282}, {342, 256}, 0},  {{188, 141}, {171, 128}, 0.25},
                          {{500, 375}, {61, 45}, 0},    {{97, 83}, {131, 201}, 0},
                          {{257, 19}, {37, 7}, 3.5},    {{40, 40}, {13, 29}, 0},
                          {{1000, 700}, {250, 175}, 0}, {{9, 5}, {3, 2}, 0}};
    // Every level this CPU runs: scalar, SSE2 and AVX2 on an AVX2 x86-64.
    std::vector<Resampler::Simd> levels{Resampler::Simd::none};
    for (const auto level : {Resampler::Simd::sse2, Resampler::Simd::avx2}) {
        if (level <= Resampler::best_simd()) levels.push_back(level);
    }
    cv::RNG rng(7);
    for (const int channels : {1, 3}) {
        for (const Case& c : cases) {
            cv::Mat source(c.source, CV_8UC(channels));
            rng.fill(source, cv::RNG::UNIFORM, 0, 256);  // noise: the worst case for overshoot
            const AxisMap x{static_cast<double>(c.source.width) / c.target.width, c.offset};
            const AxisMap y{static_cast<double>(c.source.height) / c.target.height, c.offset};
            const cv::Mat expected = reference_resample(source, x, y, c.target);
            for (const Resampler::Simd level : levels) {
                Resampler resampler(level);
                cv::Mat target(c.target, source.type());
                // Twice: the second call reuses the cached tables.
                for (int pass = 0; pass < 2; ++pass) {
                    resampler.resample(source, x, y, target);
                    EXPECT_EQ(cv::norm(target, expected, cv::NORM_INF), 0)
                        << "level " << static_cast<int>(level) << ", " << channels << " channels, "
                        << c.source << " -> " << c.target << ", pass " << pass;
                }
            }
        }
    }
}

}  // namespace
}  // namespace synshard::image
