#include "synshard/image/crop_transform.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "image/image_samples.hpp"
#include "image/libjpeg_api.hpp"
#include "synshard/util/error.hpp"

namespace synshard::image {
namespace {

using testing::ByteVector;

// The area fraction and aspect ratio a box of integer sides can have when torchvision's
// sampled ones were in range: each side is the sampled real one rounded (half a pixel).
struct Bounds {
    double min_area_fraction;
    double max_area_fraction;
    double min_ratio;
    double max_ratio;
};

Bounds rounding_bounds(int width, int height) {
    const double area = static_cast<double>(width) * height;
    // The shortest side an in-range box can have: area 0.08 at ratio 3/4 or 4/3.
    const double shortest = std::sqrt(0.08 * area * 3 / 4);
    const double slack = 0.5 / (shortest - 0.5);
    return {0.08 * (1 - slack) * (1 - slack), 1.0, 0.75 * (1 - slack) / (1 + slack),
            4.0 / 3 * (1 + slack) / (1 - slack)};
}

// What torchvision 0.14's RandomResizedCrop.get_params gives over 20000 draws per size
// (torch.manual_seed(0)): the share of boxes wider than high and the mean area fraction.
// Rejecting boxes that do not fit skews both with the image's aspect.
struct TorchvisionStatistics {
    int width;
    int height;
    double wider;
    double mean_area_fraction;
};
constexpr std::array<TorchvisionStatistics, 6> kTorchvision{{
    {500, 375, 0.5802, 0.4348},
    {375, 500, 0.4185, 0.4338},
    {256, 256, 0.4906, 0.4776},
    {341, 256, 0.5775, 0.4367},
    {1001, 333, 0.6040, 0.2239},
    {97, 131, 0.4047, 0.4318},
}};

TEST(RandomResizedCropBox, BoxesLieInsideWithTorchvisionsRangesAndStatistics) {
    Rng rng(20);
    for (const auto& [width, height, torchvision_wider, torchvision_area] : kTorchvision) {
        const Bounds bounds = rounding_bounds(width, height);
        int wider = 0;
        double area_sum = 0;
        constexpr int kBoxes = 4000;
        for (int i = 0; i < kBoxes; ++i) {
            const CropBox box = random_resized_crop_box(width, height, rng);
            ASSERT_GE(box.x, 0);
            ASSERT_GE(box.y, 0);
            ASSERT_GT(box.width, 0);
            ASSERT_GT(box.height, 0);
            ASSERT_LE(box.x + box.width, width);
            ASSERT_LE(box.y + box.height, height);
            const double fraction =
                static_cast<double>(box.width) * box.height / (static_cast<double>(width) * height);
            const double ratio = static_cast<double>(box.width) / box.height;
            area_sum += fraction;
            if (box.width > box.height) ++wider;
            if (fraction >= bounds.min_area_fraction && fraction <= bounds.max_area_fraction &&
                ratio >= bounds.min_ratio && ratio <= bounds.max_ratio) {
                continue;
            }
            // Only the fallback leaves the ranges: the centred, ratio-clamped box.
            ASSERT_EQ(box.x, (width - box.width) / 2) << width << "x" << height;
            ASSERT_EQ(box.y, (height - box.height) / 2) << width << "x" << height;
        }
        // Standard errors: about 0.008 and 0.005 here, 0.0035 and 0.002 torchvision's.
        EXPECT_NEAR(static_cast<double>(wider) / kBoxes, torchvision_wider, 0.03)
            << width << "x" << height;
        EXPECT_NEAR(area_sum / kBoxes, torchvision_area, 0.02) << width << "x" << height;
    }
}

TEST(RandomResizedCropBox, PlacesBoxesUniformly) {
    Rng rng(7);
    const int width = 500;
    const int height = 375;
    // Where the box's free room puts it, as a fraction of that room, in 4 bins.
    std::vector<int> bins(4);
    int placed = 0;
    for (int i = 0; i < 20000; ++i) {
        const CropBox box = random_resized_crop_box(width, height, rng);
        if (box.width > width - 40) continue;
        const double at = static_cast<double>(box.x) / (width - box.width + 1);
        ++bins[static_cast<std::size_t>(at * 4)];
        ++placed;
    }
    for (const int count : bins) EXPECT_NEAR(static_cast<double>(count) / placed, 0.25, 0.02);
}

TEST(RandomResizedCropBox, ExtremeAspectsFallBackToTheRatioClampedCentre) {
    // No box of area >= 8% of 2000x50 with a ratio <= 4/3 is at most 50 high: every try
    // fails and torchvision's fallback cuts the centre to ratio 4/3 (3/4 when tall).
    Rng rng(1);
    for (int i = 0; i < 50; ++i) {
        EXPECT_EQ(random_resized_crop_box(2000, 50, rng), (CropBox{966, 0, 67, 50}));
        EXPECT_EQ(random_resized_crop_box(50, 2000, rng), (CropBox{0, 966, 50, 67}));
    }
}

TEST(RandomResizedCropBox, TheSameSeedGivesTheSameBoxes) {
    Rng first(42);
    Rng second(42);
    Rng other(43);
    int differing = 0;
    for (int i = 0; i < 100; ++i) {
        const CropBox box = random_resized_crop_box(500, 375, first);
        EXPECT_EQ(box, random_resized_crop_box(500, 375, second));
        if (!(box == random_resized_crop_box(500, 375, other))) ++differing;
    }
    EXPECT_GT(differing, 90);
}

// Expected boxes worked out by hand from torchvision's formulas: Resize(256) makes
// 500x375 341x256 (int(256 * 500 / 375)); CenterCrop(224) puts the crop at
// round((341 - 224) / 2) = round(58.5) = 58 (Python rounds half to even) and
// round((256 - 224) / 2) = 16; the edges 58, 282 and 16, 240 times 500 / 341 and
// 375 / 256 are 85.04, 413.49 and 23.44, 351.56 source pixels.
TEST(CenterCropBox, MatchesTorchvisionsResizeAndCenterCrop) {
    EXPECT_EQ(center_crop_box(500, 375, 256, 224), (CropBox{85, 23, 328, 329}));
    EXPECT_EQ(center_crop_box(375, 500, 256, 224), (CropBox{23, 85, 329, 328}));
    EXPECT_EQ(center_crop_box(256, 256, 256, 224), (CropBox{16, 16, 224, 224}));
    // 300x200 -> 384x256; edges 80, 304 and 16, 240 times 0.78125: 62.5 -> 62 and
    // 237.5 -> 238, 12.5 -> 12 and 187.5 -> 188, each half to even.
    EXPECT_EQ(center_crop_box(300, 200, 256, 224), (CropBox{62, 12, 176, 176}));
    // Resize(224) makes 1000x800 280x224; the crop at 28 spans source pixels 100..900.
    EXPECT_EQ(center_crop_box(1000, 800, 224, 224), (CropBox{100, 0, 800, 800}));
    EXPECT_THROW(center_crop_box(500, 375, 224, 256), Error);
}

cv::Mat mirrored(const cv::Mat& rgb) {
    cv::Mat flipped;
    cv::flip(rgb, flipped, 1);
    return flipped;
}

TEST(CropResize, AnUnscaledBoxIsACopyAndFlipMirrorsIt) {
    const cv::Mat image = testing::photo_like(157, 103, 3);
    Resampler resampler;
    const CropBox box{31, 17, 90, 61};
    cv::Mat out(box.height, box.width, CV_8UC3);
    crop_resize(image, box, box.width, box.height, false, resampler, out.data);
    const cv::Mat expected = image(cv::Rect(box.x, box.y, box.width, box.height));
    EXPECT_EQ(cv::norm(out, expected, cv::NORM_INF), 0);
    crop_resize(image, box, box.width, box.height, true, resampler, out.data);
    EXPECT_EQ(cv::norm(out, mirrored(expected), cv::NORM_INF), 0);
}

TEST(CropResize, ReadsOnlyTheBoxAndRepeatsItsEdge) {
    // A box of one flat colour inside a different frame: resampled at any scale, no
    // frame pixel may bleed in.
    cv::Mat image(120, 160, CV_8UC3, cv::Scalar(250, 10, 10));
    image(cv::Rect(40, 30, 70, 50)).setTo(cv::Scalar(20, 200, 90));
    Resampler resampler;
    for (const auto& [width, height] : std::vector<std::pair<int, int>>{{224, 224}, {17, 9}}) {
        cv::Mat out(height, width, CV_8UC3);
        crop_resize(image, {40, 30, 70, 50}, width, height, false, resampler, out.data);
        cv::Mat expected(height, width, CV_8UC3, cv::Scalar(20, 200, 90));
        EXPECT_EQ(cv::norm(out, expected, cv::NORM_INF), 0) << width;
    }
}

TEST(CropResize, RejectsBoxesOutsideTheImageAndEmptyOutputs) {
    const cv::Mat image = testing::photo_like(64, 48, 1);
    Resampler resampler;
    std::vector<std::uint8_t> out(32 * 32 * 3);
    for (const CropBox box : {CropBox{0, 0, 65, 48}, CropBox{-1, 0, 10, 10}, CropBox{60, 40, 5, 5},
                              CropBox{0, 0, 0, 10}}) {
        EXPECT_THROW(crop_resize(image, box, 32, 32, false, resampler, out.data()), Error);
    }
    EXPECT_THROW(crop_resize(image, {0, 0, 8, 8}, 0, 32, false, resampler, out.data()), Error);
}

TEST(ReferenceDecodeCropResize, DecodesLosslessImagesToTheCropOfTheirPixels) {
    const cv::Mat image = testing::photo_like(211, 157, 9);
    const ByteVector png = testing::encode_with_opencv(image, ".png");
    Decoder decoder;
    Resampler resampler;
    cv::Mat scratch;
    const CropBox box{13, 40, 150, 97};
    cv::Mat out(56, 72, CV_8UC3);
    ASSERT_FALSE(reference_decode_crop_resize(png, box, 72, 56, true, out.data, decoder, resampler,
                                              scratch));
    cv::Mat expected(56, 72, CV_8UC3);
    crop_resize(image, box, 72, 56, true, resampler, expected.data);
    EXPECT_EQ(cv::norm(out, expected, cv::NORM_INF), 0);
}

TEST(ReferenceDecodeCropResize, BadBytesAreFailuresNotExceptions) {
    const ByteVector jpeg = testing::encode_jpeg(testing::photo_like(120, 90, 2));
    const ByteVector truncated(jpeg.begin(),
                               jpeg.begin() + static_cast<std::ptrdiff_t>(jpeg.size() / 2));
    const ByteVector garbage(300, 0x41);
    Decoder decoder;
    Resampler resampler;
    cv::Mat scratch;
    std::vector<std::uint8_t> out(32 * 32 * 3);
    const auto cut = reference_decode_crop_resize(truncated, {0, 0, 120, 90}, 32, 32, false,
                                                  out.data(), decoder, resampler, scratch);
    ASSERT_TRUE(cut);
    EXPECT_EQ(cut->reason, Reason::truncated);
    const auto unknown = reference_decode_crop_resize(garbage, {0, 0, 1, 1}, 32, 32, false,
                                                      out.data(), decoder, resampler, scratch);
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->reason, Reason::unsupported_format);
}

TEST(CropTransformer, ReadsTheStoredSizeFromTheHeader) {
    CropTransformer transformer;
    const auto size = transformer.read_size(testing::encode_jpeg(testing::photo_like(123, 45, 4)));
    ASSERT_TRUE(std::holds_alternative<Size>(size));
    EXPECT_EQ(std::get<Size>(size), (Size{123, 45}));
    EXPECT_TRUE(std::holds_alternative<ImageFailure>(transformer.read_size(ByteVector(10, 7))));
}

struct NamedJpeg {
    std::string name;
    ByteVector bytes;
    bool dct_scaled = true;  // false: decoded at full scale whatever the crop
};

// Real JPEGs of the kinds a corpus holds: the common subsamplings, odd sizes (partial
// MCUs at the right and bottom), progressive, grayscale, and large enough for DCT scaling.
std::vector<NamedJpeg> sample_jpegs() {
    JpegEncoder encoder;
    const auto encode = [&encoder](const cv::Mat& rgb, ChromaSubsampling subsampling,
                                   bool progressive) {
        return encoder.encode(testing::pixels_of(rgb), rgb.cols, rgb.rows, PixelLayout::rgb,
                              {88, subsampling, progressive});
    };
    cv::Mat gray;
    cv::cvtColor(testing::photo_like(201, 149, 15), gray, cv::COLOR_RGB2GRAY);
    return {
        {"341x256 4:2:0",
         encode(testing::photo_like(341, 256, 11), ChromaSubsampling::s420, false)},
        {"256x384 4:4:4",
         encode(testing::photo_like(256, 384, 12), ChromaSubsampling::s444, false)},
        {"97x131 4:2:0", encode(testing::photo_like(97, 131, 13), ChromaSubsampling::s420, false)},
        {"333x257 4:2:0 progressive",
         encode(testing::photo_like(333, 257, 14), ChromaSubsampling::s420, true)},
        {"201x149 gray", testing::encode_gray_jpeg(gray)},
        {"1023x769 4:2:0",
         encode(testing::photo_like(1023, 769, 16), ChromaSubsampling::s420, false)},
        {"643x481 4:2:2", encode(testing::photo_like(643, 481, 17), ChromaSubsampling::s422, false),
         false},
        {"300x200 4:1:1",
         testing::encode_with_sampling(testing::photo_like(300, 200, 18),
                                       {{{4, 1}, {1, 1}, {1, 1}}}),
         false},
    };
}

struct Difference {
    int max = 0;
    double mean = 0;
};

Difference difference(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
    Difference result;
    double sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const int d = std::abs(a[i] - b[i]);
        result.max = std::max(result.max, d);
        sum += d;
    }
    result.mean = sum / static_cast<double>(a.size());
    return result;
}

TEST(CropTransformer, MatchesTheReferenceOnRandomCropsWithinTheTolerance) {
    CropTransformer transformer;
    Decoder decoder;
    Resampler resampler;
    cv::Mat scratch;
    Rng rng(2024);
    for (const NamedJpeg& jpeg : sample_jpegs()) {
        const auto size = transformer.read_size(jpeg.bytes);
        ASSERT_TRUE(std::holds_alternative<Size>(size)) << jpeg.name;
        const auto [width, height] = std::get<Size>(size);
        // The worst per-crop differences and the crops seen, by DCT scale (index eighths).
        std::array<Difference, 9> worst{};
        std::array<int, 9> crops{};
        for (int i = 0; i < 200; ++i) {
            const CropBox box = random_resized_crop_box(width, height, rng);
            const bool flip = rng.below(2) == 1;
            // Every third crop to a small output, where DCT scaling applies more often.
            const int side = i % 3 == 0 ? 56 : 224;
            std::vector<std::uint8_t> fused(static_cast<std::size_t>(side * side * 3));
            std::vector<std::uint8_t> reference(fused.size());
            ASSERT_FALSE(
                transformer.decode_crop_resize(jpeg.bytes, box, side, side, flip, fused.data()))
                << jpeg.name;
            ASSERT_FALSE(reference_decode_crop_resize(
                jpeg.bytes, box, side, side, flip, reference.data(), decoder, resampler, scratch))
                << jpeg.name;
            const int eighths = jpeg.dct_scaled ? crop_scale_eighths(box, side, side) : 8;
            const CropTolerance tolerance = crop_tolerance(eighths);
            const Difference d = difference(fused, reference);
            EXPECT_LE(d.max, tolerance.max_abs)
                << jpeg.name << " box " << box.width << "x" << box.height << "+" << box.x << "+"
                << box.y << " to " << side << " at " << eighths << "/8";
            EXPECT_LE(d.mean, tolerance.mean_abs)
                << jpeg.name << " box " << box.width << "x" << box.height << "+" << box.x << "+"
                << box.y << " to " << side << " at " << eighths << "/8";
            auto& bucket = worst[static_cast<std::size_t>(eighths)];
            bucket.max = std::max(bucket.max, d.max);
            bucket.mean = std::max(bucket.mean, d.mean);
            ++crops[static_cast<std::size_t>(eighths)];
        }
        for (const int eighths : {8, 4, 2, 1}) {
            const auto at = static_cast<std::size_t>(eighths);
            if (crops[at] == 0) continue;
            std::cout << jpeg.name << " at " << eighths << "/8 (" << crops[at]
                      << " crops): max abs difference " << worst[at].max << ", worst mean "
                      << worst[at].mean << "\n";
        }
    }
}

TEST(CropTransformer, StopsDecodingAfterTheBoxsLastRow) {
    const ByteVector jpeg = testing::encode_jpeg(testing::photo_like(320, 480, 21));
    // Data for the top half of the rows or so: the box's rows, with room to spare.
    const auto kept = static_cast<std::ptrdiff_t>(
        testing::scan_data_offset(jpeg) + (jpeg.size() - testing::scan_data_offset(jpeg)) / 2);
    const ByteVector cut(jpeg.begin(), jpeg.begin() + kept);
    const CropBox box{37, 11, 150, 120};
    Decoder decoder;
    Resampler resampler;
    cv::Mat scratch;
    std::vector<std::uint8_t> reference(64 * 64 * 3);
    // The full decode meets the missing rows...
    const auto failure = reference_decode_crop_resize(cut, box, 64, 64, false, reference.data(),
                                                      decoder, resampler, scratch);
    ASSERT_TRUE(failure);
    EXPECT_EQ(failure->reason, Reason::truncated);
    // ... which the crop never needs.
    ASSERT_FALSE(reference_decode_crop_resize(jpeg, box, 64, 64, false, reference.data(), decoder,
                                              resampler, scratch));
    CropTransformer transformer;
    std::vector<std::uint8_t> fused(reference.size());
    const auto fused_failure =
        transformer.decode_crop_resize(cut, box, 64, 64, false, fused.data());
    ASSERT_FALSE(fused_failure) << fused_failure->detail;
    // At full scale (the box is not twice the output): the reference's bytes.
    ASSERT_EQ(crop_scale_eighths(box, 64, 64), 8);
    EXPECT_EQ(fused, reference);
}

TEST(CropTransformer, DamagedJpegsAreFailuresAndTheNextImageDecodes) {
    const ByteVector jpeg = testing::encode_jpeg(testing::photo_like(160, 120, 22));
    const ByteVector cut(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(jpeg.size() / 3));
    ByteVector damaged = jpeg;
    // A bogus marker in the middle of the entropy-coded data.
    const std::size_t middle = testing::scan_data_offset(jpeg) + 200;
    damaged[middle] = 0xff;
    damaged[middle + 1] = 0xd3;
    CropTransformer transformer;
    std::vector<std::uint8_t> out(32 * 32 * 3);
    const CropBox whole{0, 0, 160, 120};
    const auto truncated = transformer.decode_crop_resize(cut, whole, 32, 32, false, out.data());
    ASSERT_TRUE(truncated);
    EXPECT_EQ(truncated->reason, Reason::truncated) << truncated->detail;
    const auto corrupt = transformer.decode_crop_resize(damaged, whole, 32, 32, false, out.data());
    ASSERT_TRUE(corrupt);
    EXPECT_EQ(corrupt->reason, Reason::corrupt) << corrupt->detail;
    const auto unknown =
        transformer.decode_crop_resize(ByteVector(100, 3), whole, 32, 32, false, out.data());
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->reason, Reason::unsupported_format);
    EXPECT_FALSE(transformer.decode_crop_resize(jpeg, whole, 32, 32, false, out.data()));
    EXPECT_THROW(transformer.decode_crop_resize(jpeg, {100, 0, 61, 10}, 32, 32, false, out.data()),
                 Error);
}

TEST(CropTransformer, OtherFormatsAndCmykJpegsGiveTheReferenceBytes) {
    const cv::Mat image = testing::photo_like(150, 110, 23);
    CropTransformer transformer;
    Decoder decoder;
    Resampler resampler;
    cv::Mat scratch;
    for (const ByteVector& bytes :
         {testing::encode_with_opencv(image, ".png"), testing::encode_with_opencv(image, ".webp"),
          testing::encode_cmyk_jpeg(image)}) {
        std::vector<std::uint8_t> fused(40 * 30 * 3);
        std::vector<std::uint8_t> reference(fused.size());
        const CropBox box{20, 10, 100, 90};
        ASSERT_FALSE(transformer.decode_crop_resize(bytes, box, 40, 30, true, fused.data()));
        ASSERT_FALSE(reference_decode_crop_resize(bytes, box, 40, 30, true, reference.data(),
                                                  decoder, resampler, scratch));
        EXPECT_EQ(fused, reference);
    }
}

}  // namespace
}  // namespace synshard::image
