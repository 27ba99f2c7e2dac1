#include "synshard/image/pipeline.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <opencv2/core/utility.hpp>
#include <string>

#include "image/image_samples.hpp"
#include "image/libjpeg_api.hpp"
#include "synshard/cli/command.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/util/error.hpp"

namespace synshard::image {
namespace {

using testing::ByteVector;
using testing::encode_jpeg;
using testing::encode_with_opencv;
using testing::photo_like;

PipelineOptions options_with(std::string_view resize, Encoding encoding = Encoding::png) {
    PipelineOptions options;
    options.resize = parse_resize(resize);
    options.encoding = encoding;
    return options;
}

ImageFailure expect_failure(Pipeline& pipeline, const ByteVector& bytes) {
    auto result = pipeline.process(bytes, {});
    if (auto* failure = std::get_if<ImageFailure>(&result)) return *failure;
    ADD_FAILURE() << "image accepted";
    return {};
}

ProcessedImage expect_success(Pipeline& pipeline, const ByteVector& bytes,
                              std::span<const Box> boxes = {}) {
    auto result = pipeline.process(bytes, boxes);
    if (auto* image = std::get_if<ProcessedImage>(&result)) return std::move(*image);
    const auto& failure = std::get<ImageFailure>(result);
    ADD_FAILURE() << "rejected: " << to_string(failure.reason) << ": " << failure.detail;
    return {};
}

// The stored pixels of a processed image, as RGB.
cv::Mat stored_pixels(Pipeline& pipeline, const ProcessedImage& image) {
    return pipeline.decode_stored(image.data, pipeline.options().encoding, image.height,
                                  image.width);
}

// The RGB pixels the pipeline decodes from `bytes` at their own size and orientation.
cv::Mat decoded(const ByteVector& bytes) {
    PipelineOptions options = options_with("none");
    options.exif_orientation = false;
    Pipeline pipeline(options);
    return stored_pixels(pipeline, expect_success(pipeline, bytes));
}

double mean_absolute_difference(const cv::Mat& a, const cv::Mat& b) {
    cv::Mat difference;
    cv::absdiff(a, b, difference);
    const cv::Scalar mean = cv::mean(difference);
    return (mean[0] + mean[1] + mean[2]) / 3;
}

ByteVector truncated_to(const ByteVector& bytes, std::size_t size) {
    return {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size)};
}

// VmHWM of this process in kB, after resetting it when the kernel allows.
long peak_rss_kb(bool reset) {
    if (reset) std::ofstream("/proc/self/clear_refs") << "5";
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}

TEST(ImagePipeline, EmptyTextAndForeignFormatsAreRejected) {
    Pipeline pipeline({});
    EXPECT_EQ(expect_failure(pipeline, {}).reason, Reason::empty);
    const std::string text = "<html>not an image</html>\n";
    EXPECT_EQ(expect_failure(pipeline, ByteVector(text.begin(), text.end())).reason,
              Reason::unsupported_format);
    // A TIFF (as if named .JPEG): OpenCV would decode it, we do not.
    const ByteVector tiff = encode_with_opencv(photo_like(64, 48, 1), ".tiff");
    const ImageFailure failure = expect_failure(pipeline, tiff);
    EXPECT_EQ(failure.reason, Reason::unsupported_format);
    EXPECT_NE(failure.detail.find("49 49 2a 00"), std::string::npos) << failure.detail;
    // WebP and BMP only when --formats names them.
    const ByteVector webp = encode_with_opencv(photo_like(64, 48, 2), ".webp");
    const ByteVector bmp = encode_with_opencv(photo_like(64, 48, 3), ".bmp");
    EXPECT_EQ(expect_failure(pipeline, webp).reason, Reason::unsupported_format);
    EXPECT_EQ(expect_failure(pipeline, bmp).reason, Reason::unsupported_format);
}

TEST(ImagePipeline, WebpAndBmpDecodeWhenEnabled) {
    PipelineOptions options = options_with("none");
    options.formats = {SourceFormat::webp, SourceFormat::bmp};
    Pipeline pipeline(options);
    const cv::Mat photo = photo_like(64, 48, 4);
    const ProcessedImage bmp = expect_success(pipeline, encode_with_opencv(photo, ".bmp"));
    EXPECT_EQ(cv::norm(stored_pixels(pipeline, bmp), photo, cv::NORM_INF), 0);
    const ProcessedImage webp = expect_success(
        pipeline, encode_with_opencv(photo, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101}));
    EXPECT_EQ(cv::norm(stored_pixels(pipeline, webp), photo, cv::NORM_INF), 0);
    EXPECT_EQ(expect_failure(pipeline, encode_jpeg(photo)).reason, Reason::unsupported_format);
    const ByteVector webp_bytes = encode_with_opencv(photo, ".webp");
    EXPECT_EQ(expect_failure(pipeline, truncated_to(webp_bytes, webp_bytes.size() / 2)).reason,
              Reason::truncated);
    const ByteVector bmp_bytes = encode_with_opencv(photo, ".bmp");
    EXPECT_EQ(expect_failure(pipeline, truncated_to(bmp_bytes, bmp_bytes.size() - 10)).reason,
              Reason::truncated);
}

TEST(ImagePipeline, TruncatedJpegsAreRejectedWherever) {
    Pipeline pipeline({});
    const ByteVector jpeg = encode_jpeg(photo_like(320, 240, 5));
    const std::size_t scan = testing::scan_data_offset(jpeg);
    for (const std::size_t size :
         {std::size_t{3}, std::size_t{20}, testing::sof_offset(jpeg) + 4, scan - 5, scan + 10,
          jpeg.size() / 2, jpeg.size() - 100, jpeg.size() - 2}) {
        const ImageFailure failure = expect_failure(pipeline, truncated_to(jpeg, size));
        EXPECT_EQ(failure.reason, Reason::truncated) << "cut at " << size << ": " << failure.detail;
    }
    // Progressive files too.
    const ByteVector progressive = encode_jpeg(photo_like(320, 240, 6), 90, true);
    EXPECT_EQ(
        expect_failure(pipeline, truncated_to(progressive, progressive.size() * 2 / 3)).reason,
        Reason::truncated);
    expect_success(pipeline, progressive);
}

TEST(ImagePipeline, DamagedJpegEntropyDataIsCorrupt) {
    Pipeline pipeline({});
    const ByteVector jpeg = encode_jpeg(photo_like(320, 240, 7));
    const std::size_t scan = testing::scan_data_offset(jpeg);
    const std::size_t length = jpeg.size() - 2 - scan;
    for (const std::size_t at : {scan + length / 4, scan + length / 2, scan + length * 3 / 4}) {
        ByteVector damaged = jpeg;
        for (std::size_t i = at; i < at + 64; ++i) damaged[i] ^= 0xa5;
        const ImageFailure failure = expect_failure(pipeline, damaged);
        EXPECT_EQ(failure.reason, Reason::corrupt) << "flipped at " << at << ": " << failure.detail;
    }
    // A restart marker where none belongs, and junk after the scan.
    ByteVector marker = jpeg;
    marker[scan + length / 2] = 0xff;
    marker[scan + length / 2 + 1] = 0xd3;
    EXPECT_EQ(expect_failure(pipeline, marker).reason, Reason::corrupt);
    ByteVector extraneous = truncated_to(jpeg, jpeg.size() - 2);
    // (libjpeg's bit buffer swallows a few trailing bytes; 32 it cannot)
    extraneous.insert(extraneous.end(), 32, 0x5a);
    extraneous.insert(extraneous.end(), {0xff, 0xd9});
    EXPECT_EQ(expect_failure(pipeline, extraneous).reason, Reason::corrupt);
    // A frame header that cannot be.
    ByteVector frame = jpeg;
    frame[testing::sof_offset(jpeg) + 4] = 12;  // 12-bit precision
    EXPECT_EQ(expect_failure(pipeline, frame).reason, Reason::corrupt);
}

TEST(ImagePipeline, TruncatedAndCorruptPngs) {
    Pipeline pipeline({});
    const ByteVector png = encode_with_opencv(photo_like(200, 150, 8), ".png");
    for (const std::size_t size :
         {std::size_t{8}, std::size_t{30}, std::size_t{40}, png.size() / 2, png.size() - 12}) {
        const ImageFailure failure = expect_failure(pipeline, truncated_to(png, size));
        EXPECT_EQ(failure.reason, Reason::truncated) << "cut at " << size << ": " << failure.detail;
    }
    ByteVector damaged = png;
    damaged[png.size() / 2] ^= 0x40;  // IDAT's CRC no longer matches
    EXPECT_EQ(expect_failure(pipeline, damaged).reason, Reason::corrupt);
    ByteVector not_ihdr = png;
    not_ihdr[12] = 'X';
    EXPECT_EQ(expect_failure(pipeline, not_ihdr).reason, Reason::corrupt);
}

TEST(ImagePipeline, HugeHeaderIsTooLargeBeforeAnyPixelIsAllocated) {
    Pipeline pipeline({});
    const ByteVector huge =
        testing::with_jpeg_dimensions(encode_jpeg(photo_like(64, 64, 9)), 40000, 40000);
    const long before = peak_rss_kb(true);
    const ImageFailure failure = expect_failure(pipeline, huge);
    const long after = peak_rss_kb(false);
    EXPECT_EQ(failure.reason, Reason::too_large);
    EXPECT_NE(failure.detail.find("40000x40000"), std::string::npos) << failure.detail;
    EXPECT_LT(after - before, 20 * 1024) << "peak RSS grew by " << after - before << " kB";

    // PNG: the IHDR is read before libpng or OpenCV allocate anything.
    ByteVector png = encode_with_opencv(photo_like(64, 64, 9), ".png");
    png[18] = 0x9c;  // width 0x00009c40 = 40000
    png[19] = 0x40;
    EXPECT_EQ(expect_failure(pipeline, png).reason, Reason::too_large);

    PipelineOptions small_caps;
    small_caps.max_side = 100;
    small_caps.max_pixels = 5000;
    Pipeline capped(small_caps);
    EXPECT_EQ(expect_failure(capped, encode_jpeg(photo_like(101, 40, 1))).reason,
              Reason::too_large);
    EXPECT_EQ(expect_failure(capped, encode_jpeg(photo_like(80, 80, 1))).reason, Reason::too_large);
    const ByteVector big_file = encode_jpeg(photo_like(60, 60, 1), 100);
    expect_success(capped, big_file);  // 3600 pixels pass
    PipelineOptions byte_cap = small_caps;
    byte_cap.max_input_bytes = static_cast<std::int64_t>(big_file.size()) - 1;
    Pipeline byte_capped(byte_cap);
    EXPECT_EQ(expect_failure(byte_capped, big_file).reason, Reason::too_large);
}

TEST(ImagePipeline, TooSmallUnderMinSide) {
    Pipeline pipeline({});
    EXPECT_EQ(expect_failure(pipeline, encode_jpeg(photo_like(200, 31, 10))).reason,
              Reason::too_small);
    EXPECT_EQ(expect_failure(pipeline, encode_with_opencv(photo_like(20, 90, 10), ".png")).reason,
              Reason::too_small);
    expect_success(pipeline, encode_jpeg(photo_like(200, 32, 10)));
    PipelineOptions options;
    options.min_side = 1;
    Pipeline lenient(options);
    expect_success(lenient, encode_jpeg(photo_like(5, 3, 10)));
}

TEST(ImagePipeline, CmykJpegComesOutInTheOriginalColours) {
    const cv::Mat photo = photo_like(160, 120, 11);
    const ByteVector cmyk = testing::encode_cmyk_jpeg(photo);
    const cv::Mat rgb = decoded(cmyk);
    ASSERT_EQ(rgb.size(), photo.size());
    EXPECT_LT(mean_absolute_difference(rgb, photo), 3.0);
    // Inverting the Adobe convention would be off by ~half the range.
    cv::Mat inverted = cv::Scalar::all(255) - photo;
    EXPECT_GT(mean_absolute_difference(rgb, inverted), 50.0);
}

TEST(ImagePipeline, GrayscaleBecomesThreeEqualChannels) {
    cv::Mat gray;
    cv::cvtColor(photo_like(96, 64, 12), gray, cv::COLOR_RGB2GRAY);
    const cv::Mat rgb = decoded(testing::encode_gray_jpeg(gray, 100));
    ASSERT_EQ(rgb.type(), CV_8UC3);
    std::vector<cv::Mat> channels;
    cv::split(rgb, channels);
    EXPECT_EQ(cv::norm(channels[0], channels[1], cv::NORM_INF), 0);
    EXPECT_EQ(cv::norm(channels[0], channels[2], cv::NORM_INF), 0);
    EXPECT_LT(mean_absolute_difference(channels[0], gray), 1.0);
}

// Turns stored pixels upright as the EXIF specification describes each orientation.
cv::Mat upright_by_exif_table(const cv::Mat& stored, int orientation) {
    cv::Mat out;
    switch (orientation) {
        case 1:
            out = stored.clone();
            break;
        case 2:
            cv::flip(stored, out, 1);
            break;  // mirror horizontal
        case 3:
            cv::flip(stored, out, -1);
            break;  // rotate 180
        case 4:
            cv::flip(stored, out, 0);
            break;  // mirror vertical
        case 5:
            cv::transpose(stored, out);
            break;  // transpose
        case 6:
            cv::rotate(stored, out, cv::ROTATE_90_CLOCKWISE);
            break;  // rotate 90 CW
        case 7:     // transverse
            cv::rotate(stored, out, cv::ROTATE_90_COUNTERCLOCKWISE);
            cv::flip(out, out, 1);
            break;
        case 8:
            cv::rotate(stored, out, cv::ROTATE_90_COUNTERCLOCKWISE);
            break;
    }
    return out;
}

TEST(ImagePipeline, ExifOrientationsOneToEight) {
    const ByteVector jpeg = encode_jpeg(photo_like(96, 64, 13));
    const cv::Mat stored = decoded(jpeg);
    Pipeline pipeline(options_with("none"));
    const Box box{10, 20, 40, 60};
    for (int orientation = 1; orientation <= 8; ++orientation) {
        SCOPED_TRACE(orientation);
        const ProcessedImage image =
            expect_success(pipeline, testing::with_exif_orientation(jpeg, orientation), {&box, 1});
        const cv::Mat expected = upright_by_exif_table(stored, orientation);
        EXPECT_EQ(image.width, expected.cols);
        EXPECT_EQ(image.source_width, expected.cols);
        EXPECT_EQ(image.source_height, expected.rows);
        EXPECT_EQ(cv::norm(stored_pixels(pipeline, image), expected, cv::NORM_INF), 0);
        // The box, painted into a mask and turned the same way, must match.
        cv::Mat mask = cv::Mat::zeros(64, 96, CV_8UC1);
        mask(cv::Rect(10, 20, 30, 40)).setTo(255);
        const cv::Mat turned = upright_by_exif_table(mask, orientation);
        const cv::Rect bounds = cv::boundingRect(turned);
        ASSERT_EQ(image.boxes.size(), 1U);
        EXPECT_EQ(image.boxes[0], (Box{static_cast<float>(bounds.x), static_cast<float>(bounds.y),
                                       static_cast<float>(bounds.x + bounds.width),
                                       static_cast<float>(bounds.y + bounds.height)}));
    }
    PipelineOptions keep = options_with("none");
    keep.exif_orientation = false;
    Pipeline ignoring(keep);
    const ProcessedImage image = expect_success(ignoring, testing::with_exif_orientation(jpeg, 6));
    EXPECT_EQ(image.width, 96);
    EXPECT_EQ(cv::norm(stored_pixels(ignoring, image), stored, cv::NORM_INF), 0);
}

TEST(ImagePipeline, SixteenBitPngBecomesEightBit) {
    const cv::Mat photo = photo_like(64, 48, 14);
    cv::Mat wide;
    photo.convertTo(wide, CV_16UC3, 257);
    cv::Mat offsets(wide.size(), CV_16UC3);
    cv::randu(offsets, 0, 100);
    wide += offsets;  // p * 257 + [0, 100) still rounds to p
    EXPECT_EQ(cv::norm(decoded(encode_with_opencv(wide, ".png")), photo, cv::NORM_INF), 0);
    cv::Mat gray16;
    cv::Mat gray;
    cv::cvtColor(photo, gray, cv::COLOR_RGB2GRAY);
    gray.convertTo(gray16, CV_16UC1, 257);
    cv::Mat gray3;
    cv::cvtColor(gray, gray3, cv::COLOR_GRAY2RGB);
    EXPECT_EQ(cv::norm(decoded(encode_with_opencv(gray16, ".png")), gray3, cv::NORM_INF), 0);
}

TEST(ImagePipeline, AlphaIsCompositedOverTheBackground) {
    const cv::Mat photo = photo_like(64, 48, 15);
    cv::Mat rgba;
    cv::cvtColor(photo, rgba, cv::COLOR_RGB2RGBA);
    for (int y = 0; y < rgba.rows; ++y) {
        for (int x = 0; x < rgba.cols; ++x)
            rgba.at<cv::Vec4b>(y, x)[3] = static_cast<std::uint8_t>(x * 4);
    }
    const ByteVector png = encode_with_opencv(rgba, ".png");
    for (const Rgb background : {Rgb{255, 255, 255}, Rgb{0, 0, 0}, Rgb{10, 200, 30}}) {
        PipelineOptions options = options_with("none");
        options.background = background;
        Pipeline pipeline(options);
        const cv::Mat rgb = stored_pixels(pipeline, expect_success(pipeline, png));
        const double back[3] = {double(background.red), double(background.green),
                                double(background.blue)};
        double worst = 0;
        for (int y = 0; y < rgb.rows; ++y) {
            for (int x = 0; x < rgb.cols; ++x) {
                const double alpha = x * 4 / 255.0;
                for (int c = 0; c < 3; ++c) {
                    const double expected =
                        photo.at<cv::Vec3b>(y, x)[c] * alpha + back[c] * (1 - alpha);
                    worst = std::max(worst, std::abs(rgb.at<cv::Vec3b>(y, x)[c] - expected));
                }
            }
        }
        EXPECT_LE(worst, 0.5 + 1e-9);
    }
}

// --- geometry end to end -------------------------------------------------------------

struct GeometryCase {
    const char* resize;
    int width;
    int height;
    Box box;  // of {100, 75, 300, 225} on the 500x375 source
};

TEST(ImagePipeline, EveryGeometryWithItsBoxes) {
    const ByteVector jpeg = encode_jpeg(photo_like(500, 375, 16));
    const std::vector<Box> boxes{{100, 75, 300, 225}, {0, 0, 30, 375}};
    const GeometryCase cases[] = {
        {"shorter:256", 341, 256, {68.2f, 51.2f, 204.6f, 153.6f}},
        {"crop:224", 224, 224, {59.8f - 37, 44.8f, 179.4f - 37, 134.4f}},
        {"fixed:100x50", 100, 50, {20, 10, 60, 30}},
        {"fit:200x200", 200, 200, {40, 55, 120, 115}},
        {"longer:400", 400, 300, {80, 60, 240, 180}},
        {"none", 500, 375, {100, 75, 300, 225}},
        {"shorter:750", 1000, 750, {200, 150, 600, 450}},
    };
    for (const auto& geometry : cases) {
        SCOPED_TRACE(geometry.resize);
        Pipeline pipeline(options_with(geometry.resize));
        const ProcessedImage image = expect_success(pipeline, jpeg, boxes);
        EXPECT_EQ(image.width, geometry.width);
        EXPECT_EQ(image.height, geometry.height);
        EXPECT_EQ(image.source_width, 500);
        EXPECT_EQ(image.source_height, 375);
        const cv::Mat rgb = stored_pixels(pipeline, image);
        EXPECT_EQ(rgb.cols, geometry.width);
        ASSERT_FALSE(image.boxes.empty());
        EXPECT_EQ(image.box_sources[0], 0U);
        EXPECT_NEAR(image.boxes[0].xmin, geometry.box.xmin, 1e-3);
        EXPECT_NEAR(image.boxes[0].ymin, geometry.box.ymin, 1e-3);
        EXPECT_NEAR(image.boxes[0].xmax, geometry.box.xmax, 1e-3);
        EXPECT_NEAR(image.boxes[0].ymax, geometry.box.ymax, 1e-3);
        // The 30 px strip at the left vanishes only under crop:224 (it scales to 17.9 px,
        // all of it left of the 37 px cut).
        const bool crop = std::string(geometry.resize) == "crop:224";
        EXPECT_EQ(image.boxes_dropped, crop ? 1 : 0);
        EXPECT_EQ(image.boxes.size(), crop ? 1U : 2U);
    }
}

TEST(ImagePipeline, CropAndFitAreTheResizeCutOrPadded) {
    const ByteVector jpeg = encode_jpeg(photo_like(500, 375, 17));
    Pipeline shorter(options_with("shorter:224"));
    Pipeline crop(options_with("crop:224"));
    const cv::Mat whole = stored_pixels(shorter, expect_success(shorter, jpeg));
    const cv::Mat cut = stored_pixels(crop, expect_success(crop, jpeg));
    EXPECT_EQ(cv::norm(whole(cv::Rect(37, 0, 224, 224)), cut, cv::NORM_INF), 0);

    PipelineOptions fit_options = options_with("fit:200x200");
    fit_options.background = {1, 2, 3};
    Pipeline fit(fit_options);
    Pipeline fixed(options_with("fixed:200x150"));
    const ProcessedImage fitted = expect_success(fit, jpeg);
    EXPECT_EQ(fitted.content_rect, (Rect{0, 25, 200, 150}));
    const cv::Mat padded = stored_pixels(fit, fitted);
    const cv::Mat squashed = stored_pixels(fixed, expect_success(fixed, jpeg));
    EXPECT_EQ(cv::norm(padded(cv::Rect(0, 25, 200, 150)), squashed, cv::NORM_INF), 0);
    const cv::Mat top = padded(cv::Rect(0, 0, 200, 25));
    const cv::Mat bottom = padded(cv::Rect(0, 175, 200, 25));
    const cv::Mat fill(25, 200, CV_8UC3, cv::Scalar(1, 2, 3));
    EXPECT_EQ(cv::norm(top, fill, cv::NORM_INF), 0);
    EXPECT_EQ(cv::norm(bottom, fill, cv::NORM_INF), 0);
}

TEST(ImagePipeline, NoUpscaleKeepsSmallImages) {
    const ByteVector jpeg = encode_jpeg(photo_like(120, 90, 18));
    PipelineOptions options = options_with("shorter:256");
    options.upscale = false;
    Pipeline pipeline(options);
    const ProcessedImage image = expect_success(pipeline, jpeg);
    EXPECT_EQ(image.width, 120);
    EXPECT_EQ(image.height, 90);
    EXPECT_LT(mean_absolute_difference(stored_pixels(pipeline, image), decoded(jpeg)), 2.0);
}

// --- encodings -----------------------------------------------------------------------

TEST(ImagePipeline, JpegEncodingAtTheRequestedQuality) {
    const ByteVector jpeg = encode_jpeg(photo_like(500, 375, 19));
    PipelineOptions low = options_with("shorter:256", Encoding::jpeg);
    low.quality = 30;
    Pipeline low_pipeline(low);
    Pipeline high_pipeline(options_with("shorter:256", Encoding::jpeg));
    Pipeline lossless(options_with("shorter:256", Encoding::png));
    const ProcessedImage small = expect_success(low_pipeline, jpeg);
    const ProcessedImage large = expect_success(high_pipeline, jpeg);
    EXPECT_EQ(sniff_format(large.data), SourceFormat::jpeg);
    EXPECT_LT(small.data.size(), large.data.size());
    const cv::Mat exact = stored_pixels(lossless, expect_success(lossless, jpeg));
    EXPECT_GT(cv::PSNR(stored_pixels(high_pipeline, large), exact),
              cv::PSNR(stored_pixels(low_pipeline, small), exact));
}

TEST(ImagePipeline, RawIsTheImagePixels) {
    const ByteVector jpeg = encode_jpeg(photo_like(300, 200, 20));
    Pipeline raw(options_with("crop:64", Encoding::raw));
    Pipeline png(options_with("crop:64", Encoding::png));
    ProcessedImage image = expect_success(raw, jpeg);
    ASSERT_EQ(image.data.size(), 64U * 64U * 3U);
    const cv::Mat wrapped(64, 64, CV_8UC3, image.data.data());
    EXPECT_EQ(cv::norm(wrapped, stored_pixels(png, expect_success(png, jpeg)), cv::NORM_INF), 0);
    EXPECT_EQ(cv::norm(raw.decode_stored(image.data, Encoding::raw, 64, 64), wrapped, cv::NORM_INF),
              0);
    EXPECT_THROW(raw.decode_stored(image.data, Encoding::raw, 64, 63), Error);
}

TEST(ImagePipeline, OriginalKeepsPlainUnchangedSourcesOnly) {
    Pipeline pipeline(options_with("none", Encoding::original));
    const cv::Mat photo = photo_like(120, 90, 21);
    const ByteVector baseline = encode_jpeg(photo);
    const ByteVector progressive = encode_jpeg(photo, 90, true);
    const ByteVector png = encode_with_opencv(photo, ".png");
    for (const ByteVector* plain : {&baseline, &progressive, &png}) {
        const ProcessedImage image = expect_success(pipeline, *plain);
        EXPECT_TRUE(image.kept_original_bytes);
        EXPECT_EQ(image.data, *plain);
    }
    cv::Mat rgba;
    cv::cvtColor(photo, rgba, cv::COLOR_RGB2RGBA);
    const ByteVector changed[] = {testing::with_exif_orientation(baseline, 6),
                                  testing::encode_cmyk_jpeg(photo),
                                  encode_with_opencv(rgba, ".png")};
    for (const ByteVector& bytes : changed) {
        const ProcessedImage image = expect_success(pipeline, bytes);
        EXPECT_FALSE(image.kept_original_bytes);
        EXPECT_EQ(sniff_format(image.data), SourceFormat::jpeg);
        EXPECT_EQ(
            pipeline.decode_stored(image.data, Encoding::original, image.height, image.width).cols,
            image.width);
    }
    Pipeline resizing(options_with("shorter:64", Encoding::original));
    EXPECT_FALSE(expect_success(resizing, baseline).kept_original_bytes);
    // Validation still runs on bytes that would be kept.
    EXPECT_EQ(expect_failure(pipeline, truncated_to(baseline, baseline.size() - 50)).reason,
              Reason::truncated);
}

TEST(ImagePipeline, DecodeStoredChecksTheSize) {
    Pipeline pipeline(options_with("shorter:64", Encoding::jpeg));
    const ProcessedImage image = expect_success(pipeline, encode_jpeg(photo_like(200, 100, 22)));
    EXPECT_EQ(pipeline.decode_stored(image.data, Encoding::jpeg, 64, 128).size(),
              cv::Size(128, 64));
    EXPECT_THROW(pipeline.decode_stored(image.data, Encoding::jpeg, 64, 127), Error);
    EXPECT_THROW(pipeline.decode_stored(truncated_to(image.data, 100), Encoding::jpeg, 64, 128),
                 Error);
}

TEST(ImagePipeline, PixelStatsAreExactAndSkipPadding) {
    cv::Mat rgb(2, 3, CV_8UC3, cv::Scalar(9, 9, 9));
    rgb.at<cv::Vec3b>(0, 1) = {1, 2, 3};
    rgb.at<cv::Vec3b>(1, 1) = {255, 0, 10};
    const PixelStats column = pixel_stats(rgb, {1, 0, 1, 2});
    EXPECT_EQ(column.pixels, 2U);
    EXPECT_EQ(column.sum, (std::array<std::uint64_t, 3>{256, 2, 13}));
    EXPECT_EQ(column.sum_of_squares, (std::array<std::uint64_t, 3>{1 + 65025, 4, 9 + 100}));
    PixelStats total = pixel_stats(rgb, {0, 0, 1, 2});
    total += column;
    EXPECT_EQ(total.pixels, 4U);
    EXPECT_EQ(total.sum[0], 256U + 18U);
    EXPECT_THROW(pixel_stats(rgb, {2, 0, 2, 1}), Error);

    PipelineOptions options = options_with("fit:100x100");
    options.background = {0, 0, 0};
    Pipeline pipeline(options);
    const ProcessedImage image = expect_success(pipeline, encode_jpeg(photo_like(200, 100, 23)));
    const cv::Mat pixels = stored_pixels(pipeline, image);
    const PixelStats content = pixel_stats(pixels, image.content_rect);
    EXPECT_EQ(content.pixels, 100U * 50U);
    // The black padding adds nothing to the sums: the whole canvas gives the same sums.
    EXPECT_EQ(pixel_stats(pixels, {0, 0, 100, 100}).sum, content.sum);
}

// The sums of the pixels a reader decodes from a processed image's bytes.
PixelStats decoded_sums(Pipeline& pipeline, const ProcessedImage& image) {
    return pixel_stats(stored_pixels(pipeline, image), image.content_rect);
}

TEST(ImagePipeline, PixelSumsAreExactlyThoseOfTheStoredPixelsForRawPngAndKeptBytes) {
    const ByteVector jpeg = encode_jpeg(photo_like(300, 200, 24));
    const std::pair<std::string_view, Encoding> cases[] = {
        {"crop:64", Encoding::raw},    {"fit:100x100", Encoding::raw},
        {"shorter:64", Encoding::png}, {"fit:100x100", Encoding::png},
        {"none", Encoding::original},
    };
    for (const auto& [resize, encoding] : cases) {
        Pipeline pipeline(options_with(resize, encoding));
        const ProcessedImage image = expect_success(pipeline, jpeg);
        EXPECT_EQ(image.pixel_sums.pixels,
                  static_cast<std::uint64_t>(image.content_rect.width) *
                      static_cast<std::uint64_t>(image.content_rect.height))
            << resize << " " << to_string(encoding);
        EXPECT_EQ(image.pixel_sums, decoded_sums(pipeline, image))
            << resize << " " << to_string(encoding);
    }
}

TEST(ImagePipeline, JpegPixelSumsAreThoseOfTheStoredPixelsWithinTheStatsTolerance) {
    // A 4:2:0 JPEG resized plane by plane (odd output sizes: half chroma blocks at the
    // edges), and through RGB: turned by EXIF, padded by fit:, or from a PNG.
    const cv::Mat photo = photo_like(301, 201, 25);
    const ByteVector jpeg = encode_jpeg(photo);
    const ByteVector turned = testing::with_exif_orientation(jpeg, 6);
    const ByteVector png = encode_with_opencv(photo, ".png");
    const std::pair<std::string_view, const ByteVector*> cases[] = {
        {"shorter:67", &jpeg},  {"crop:65", &jpeg},   {"shorter:67", &turned},
        {"fit:100x100", &jpeg}, {"shorter:67", &png},
    };
    for (const auto& [resize, bytes] : cases) {
        Pipeline pipeline(options_with(resize, Encoding::jpeg));
        const ProcessedImage image = expect_success(pipeline, *bytes);
        const PixelStats decoded = decoded_sums(pipeline, image);
        ASSERT_EQ(image.pixel_sums.pixels, decoded.pixels) << resize;
        const auto recorded = manifest::stats_of(
            image.pixel_sums.sum, image.pixel_sums.sum_of_squares, image.pixel_sums.pixels);
        const auto expected =
            manifest::stats_of(decoded.sum, decoded.sum_of_squares, decoded.pixels);
        for (std::size_t c = 0; c < 3; ++c) {
            EXPECT_NEAR(recorded.mean[c], expected.mean[c], manifest::kStatsMeanTolerance)
                << resize;
            EXPECT_NEAR(recorded.std[c], expected.std[c], manifest::kStatsStdTolerance) << resize;
        }
    }
}

// --- speed-related promises --------------------------------------------------------

TEST(ImagePipeline, OutputDoesNotDependOnOpenCvOptimisations) {
    const ByteVector sources[] = {
        encode_jpeg(photo_like(500, 375, 24)), encode_jpeg(photo_like(1600, 1200, 25)),
        encode_jpeg(photo_like(100, 80, 26)), encode_with_opencv(photo_like(333, 222, 27), ".png")};
    for (const char* resize :
         {"shorter:256", "crop:224", "fit:300x200", "fixed:150x400", "shorter:300"}) {
        SCOPED_TRACE(resize);
        for (const ByteVector& source : sources) {
            std::vector<ByteVector> outputs;
            for (const bool optimised : {true, false}) {
                cv::setUseOptimized(optimised);
                Pipeline pipeline(options_with(resize, Encoding::jpeg));
                outputs.push_back(expect_success(pipeline, source).data);
            }
            cv::setUseOptimized(true);
            EXPECT_EQ(outputs[0], outputs[1]);
        }
    }
}

TEST(ImagePipeline, DctScaledDecodeCoversTheTarget) {
    EXPECT_EQ(jpeg_scale_eighths({2000, 1500}, {341, 256}), 2);
    EXPECT_EQ(jpeg_decode_size({2000, 1500}, 2), (Size{500, 375}));
    EXPECT_EQ(jpeg_scale_eighths({1000, 750}, {341, 256}), 4);
    EXPECT_EQ(jpeg_scale_eighths({4000, 3000}, {256, 192}), 1);
    EXPECT_EQ(jpeg_scale_eighths({4000, 3000}, {501, 192}), 2);
    // ImageNet-sized images need 6/8, which is not used: full size.
    EXPECT_EQ(jpeg_scale_eighths({500, 375}, {341, 256}), 8);
    EXPECT_EQ(jpeg_scale_eighths({500, 375}, {600, 450}), 8);
    // Partial blocks round up: 375 rows at 1/4 are 93.75, decoded as 94.
    EXPECT_EQ(jpeg_decode_size({500, 375}, 2), (Size{125, 94}));
}

// PSNR against a float Lanczos resize of the full decode: the DCT-scaled path may lose
// at most 1 dB to the naive full decode + INTER_AREA.
TEST(ImagePipeline, QualityMatchesTheNaivePath) {
    Pipeline pipeline(options_with("shorter:256"));
    const std::pair<int, int> sizes[] = {
        {500, 375}, {375, 500}, {640, 480}, {2000, 1500}, {3000, 2000}};
    std::uint64_t seed = 100;
    for (const auto& [width, height] : sizes) {
        SCOPED_TRACE(std::to_string(width) + "x" + std::to_string(height));
        const ByteVector jpeg = encode_jpeg(photo_like(width, height, seed++));
        const ProcessedImage image = expect_success(pipeline, jpeg);
        const cv::Mat ours = stored_pixels(pipeline, image);
        const cv::Mat full = decoded(jpeg);
        cv::Mat full_float;
        full.convertTo(full_float, CV_32FC3);
        cv::Mat reference_float;
        cv::resize(full_float, reference_float, ours.size(), 0, 0, cv::INTER_LANCZOS4);
        cv::Mat reference;
        reference_float.convertTo(reference, CV_8UC3);
        cv::Mat naive;
        cv::resize(full, naive, ours.size(), 0, 0, cv::INTER_AREA);
        const double ours_db = cv::PSNR(ours, reference);
        const double naive_db = cv::PSNR(naive, reference);
        EXPECT_GE(ours_db, naive_db - 1.0)
            << "ours " << ours_db << " dB, naive " << naive_db << " dB";
    }
}

// The same rule for JPEG output, where a YCbCr JPEG is resampled plane by plane: both
// sides stored as JPEG q90 (naive: full decode, INTER_AREA, cv::imencode).
TEST(ImagePipeline, JpegQualityMatchesTheNaivePath) {
    Pipeline pipeline(options_with("shorter:256", Encoding::jpeg));
    const std::pair<int, int> sizes[] = {
        {500, 375}, {375, 500}, {641, 479}, {2000, 1500}, {3000, 2000}};
    std::uint64_t seed = 200;
    for (const auto& [width, height] : sizes) {
        SCOPED_TRACE(std::to_string(width) + "x" + std::to_string(height));
        const ByteVector jpeg = encode_jpeg(photo_like(width, height, seed++, 14));
        const ProcessedImage image = expect_success(pipeline, jpeg);
        const cv::Mat ours = stored_pixels(pipeline, image);
        const cv::Mat full = decoded(jpeg);
        cv::Mat full_float;
        full.convertTo(full_float, CV_32FC3);
        cv::Mat reference_float;
        cv::resize(full_float, reference_float, ours.size(), 0, 0, cv::INTER_LANCZOS4);
        cv::Mat reference;
        reference_float.convertTo(reference, CV_8UC3);
        cv::Mat naive;
        cv::resize(full, naive, ours.size(), 0, 0, cv::INTER_AREA);
        const cv::Mat naive_stored =
            decoded(encode_with_opencv(naive, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 90}));
        const double ours_db = cv::PSNR(ours, reference);
        const double naive_db = cv::PSNR(naive_stored, reference);
        EXPECT_GE(ours_db, naive_db - 1.0)
            << "ours " << ours_db << " dB, naive " << naive_db << " dB";
    }
}

// --- options ---------------------------------------------------------------------------

// Parsed as a command's options are, so that a value outside an option's range (refused
// while parsing) is a UsageError too.
PipelineOptions parse_options(const std::vector<std::string>& args) {
    cli::Command command;
    command.name = "pipeline";
    command.describe = [](cli::po::options_description& options,
                          cli::po::positional_options_description&) {
        add_pipeline_options(options);
    };
    return pipeline_options_from(cli::parse_command_line(command, args));
}

TEST(ImagePipeline, OptionsHaveTheDocumentedDefaults) {
    const PipelineOptions options = parse_options({});
    EXPECT_EQ(options.resize, parse_resize("shorter:256"));
    EXPECT_EQ(options.encoding, Encoding::jpeg);
    EXPECT_EQ(options.quality, 90);
    EXPECT_EQ(options.formats, (std::set<SourceFormat>{SourceFormat::jpeg, SourceFormat::png}));
    EXPECT_EQ(options.max_side, 16384);
    EXPECT_EQ(options.max_pixels, 100'000'000);
    EXPECT_EQ(options.max_input_bytes, 64 << 20);
    EXPECT_EQ(options.min_side, 32);
    EXPECT_TRUE(options.exif_orientation);
    EXPECT_TRUE(options.upscale);
    EXPECT_EQ(options.background, (Rgb{255, 255, 255}));
}

TEST(ImagePipeline, OptionsAreValidated) {
    const PipelineOptions options = parse_options(
        {"--resize", "fit:64x48", "--encoding", "raw", "--no-upscale", "--quality", "75",
         "--formats", "jpeg,webp,bmp", "--background", "#0a0B0c", "--no-exif-orientation"});
    EXPECT_EQ(options.encoding, Encoding::raw);
    EXPECT_FALSE(options.upscale);
    EXPECT_FALSE(options.exif_orientation);
    EXPECT_EQ(options.quality, 75);
    EXPECT_EQ(options.formats.size(), 3U);
    EXPECT_EQ(options.background, (Rgb{10, 11, 12}));
    EXPECT_EQ(parse_options({"--background", "1,2,3"}).background, (Rgb{1, 2, 3}));
    for (const auto& bad : std::vector<std::vector<std::string>>{
             {"--encoding", "raw"},
             {"--encoding", "raw", "--resize", "crop:10", "--no-upscale"},
             {"--encoding", "gif"},
             {"--quality", "0"},
             {"--quality", "101"},
             {"--formats", "jpeg,tiff"},
             {"--formats", ""},
             {"--max-side", "0"},
             {"--max-pixels", "-1"},
             {"--min-side", "-1"},
             {"--background", "1,2"},
             {"--background", "1,2,300"},
             {"--background", "#12345"},
             {"--resize", "shorter:0"}}) {
        EXPECT_THROW(parse_options(bad), UsageError) << bad[0] << " " << bad[1];
    }
    EXPECT_NO_THROW(parse_options({"--encoding", "raw", "--resize", "crop:10"}));
}

}  // namespace
}  // namespace synshard::image
