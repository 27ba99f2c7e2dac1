// TurboJPEG 2.1's header call names six chroma subsamplings (4:4:4, 4:2:2, 4:2:0, 4:4:0,
// 4:1:1, gray) and fails every other one with "Could not determine subsampling type",
// although each is a legal JPEG that libjpeg decodes (and tjDecompress2 with it). These
// tests write such files with libjpeg's own API and hold synshard's pixels against
// libjpeg's own decode.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "image/image_samples.hpp"
#include "image/libjpeg_api.hpp"
#include "synshard/image/decode.hpp"
#include "synshard/image/pipeline.hpp"

namespace synshard::image {
namespace {

using testing::ByteVector;
using testing::SamplingFactors;
using ::testing::StartsWith;

// Legal sampling factors TurboJPEG 2.1 has no name for.
const std::vector<std::pair<std::string, SamplingFactors>>& unnamed_samplings() {
    static const std::vector<std::pair<std::string, SamplingFactors>> samplings{
        {"4:1:0", {{{4, 2}, {1, 1}, {1, 1}}}},
        {"luma 2x4", {{{2, 4}, {1, 1}, {1, 1}}}},
        {"luma 3x1", {{{3, 1}, {1, 1}, {1, 1}}}},
        {"chroma finer than luma", {{{1, 1}, {2, 2}, {2, 2}}}},
        {"Cb and Cr sampled differently", {{{2, 2}, {1, 1}, {2, 1}}}},
    };
    return samplings;
}

ByteVector truncated_to(const ByteVector& bytes, std::size_t size) {
    return {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size)};
}

// 333x250: no dimension is a multiple of any MCU, so every decode ends in partial blocks.
constexpr Size kStored{333, 250};

TEST(JpegUnnamedSubsampling, DecodesAtTheDctScaleOfAnyJpegToLibjpegsPixels) {
    Decoder decoder;
    for (const auto& [name, factors] : unnamed_samplings()) {
        const ByteVector jpeg = testing::encode_with_sampling(
            testing::photo_like(kStored.width, kStored.height, 41), factors);
        auto read = decoder.read_header(jpeg, SourceFormat::jpeg);
        if (const auto* failure = std::get_if<ImageFailure>(&read)) {
            ADD_FAILURE() << name << ": header rejected as " << to_string(failure->reason) << ": "
                          << failure->detail;
            continue;
        }
        const SourceHeader& header = std::get<SourceHeader>(read);
        EXPECT_EQ(header.stored, kStored) << name;
        EXPECT_TRUE(header.plain) << name;
        // The plane-by-plane path goes through TurboJPEG's YUV layouts, which need a name.
        EXPECT_EQ(header.chroma_step, Size{}) << name;
        for (const int eighths : {1, 2, 4, 8}) {
            const Size cover = jpeg_decode_size(kStored, eighths);
            ASSERT_EQ(jpeg_scale_eighths(kStored, cover), eighths);
            cv::Mat rgb;
            if (const auto failure = decoder.decode(jpeg, header, cover, {}, rgb)) {
                ADD_FAILURE() << name << " at " << eighths << "/8: rejected as "
                              << to_string(failure->reason) << ": " << failure->detail;
                continue;
            }
            const cv::Mat reference = testing::libjpeg_decode(jpeg, eighths);
            ASSERT_EQ(rgb.size(), reference.size()) << name << " at " << eighths << "/8";
            EXPECT_LE(cv::norm(rgb, reference, cv::NORM_INF), 1)
                << name << " at " << eighths << "/8";
        }
    }
}

TEST(JpegUnnamedSubsampling, ConvertLikeAnyJpeg) {
    PipelineOptions options;
    options.resize = parse_resize("shorter:96");
    options.encoding = Encoding::jpeg;
    Pipeline pipeline(options);
    for (const auto& [name, factors] : unnamed_samplings()) {
        const ByteVector jpeg = testing::encode_with_sampling(
            testing::photo_like(kStored.width, kStored.height, 42), factors);
        auto result = pipeline.process(jpeg, {});
        if (const auto* failure = std::get_if<ImageFailure>(&result)) {
            ADD_FAILURE() << name << ": rejected as " << to_string(failure->reason) << ": "
                          << failure->detail;
            continue;
        }
        const auto& image = std::get<ProcessedImage>(result);
        EXPECT_EQ(image.width, 128) << name;
        EXPECT_EQ(image.height, 96) << name;
    }
}

TEST(JpegUnnamedSubsampling, TruncatedOrDamagedFilesAreRejectedAsAnyJpeg) {
    Pipeline pipeline({});
    const auto reason_for = [&](const ByteVector& bytes) {
        auto result = pipeline.process(bytes, {});
        const auto* failure = std::get_if<ImageFailure>(&result);
        return failure == nullptr
                   ? std::string("accepted")
                   : std::string(to_string(failure->reason)) + ": " + failure->detail;
    };
    const ByteVector jpeg = testing::encode_with_sampling(testing::photo_like(320, 240, 43),
                                                          unnamed_samplings().front().second);
    const std::size_t scan = testing::scan_data_offset(jpeg);
    for (const std::size_t size :
         {testing::sof_offset(jpeg) + 4, scan - 5, scan + 10, jpeg.size() / 2, jpeg.size() - 2}) {
        EXPECT_THAT(reason_for(truncated_to(jpeg, size)), StartsWith("truncated: "))
            << "cut at " << size;
    }
    const std::size_t length = jpeg.size() - 2 - scan;
    ByteVector damaged = jpeg;
    for (std::size_t i = scan + length / 2; i < scan + length / 2 + 64; ++i) damaged[i] ^= 0xa5;
    EXPECT_THAT(reason_for(damaged), StartsWith("corrupt: "));
    // Any libjpeg warning fails the image, as for every JPEG: here junk after the scan.
    ByteVector extraneous = truncated_to(jpeg, jpeg.size() - 2);
    extraneous.insert(extraneous.end(), 32, 0x5a);
    extraneous.insert(extraneous.end(), {0xff, 0xd9});
    EXPECT_THAT(reason_for(extraneous), StartsWith("corrupt: "));
    // The failures left nothing behind in the decoder.
    EXPECT_EQ(reason_for(jpeg), "accepted");
    EXPECT_EQ(reason_for(testing::encode_jpeg(testing::photo_like(320, 240, 44))), "accepted");
}

}  // namespace
}  // namespace synshard::image
