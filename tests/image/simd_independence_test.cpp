// The output bytes must not depend on the CPU's SIMD level: libjpeg-turbo picks AVX2, SSE2
// or plain C kernels at run time (JSIMD_FORCE* override the choice), and a published split
// must regenerate byte for byte on any node of any cluster.

#include <gtest/gtest.h>

#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "faults/fault_support.hpp"
#include "image/libjpeg_api.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::testing {
namespace {

// Every .h5 file under out (by path relative to it) with its bytes.
std::map<std::string, std::vector<std::uint8_t>> shards_of(const std::filesystem::path& out) {
    std::map<std::string, std::vector<std::uint8_t>> shards;
    for (const auto& file : files_ending_with(out, ".h5")) {
        shards[std::filesystem::relative(file, out).string()] = read_file(file);
    }
    return shards;
}

// Converts `input` with each SIMD level forced, at full size and DCT-scaled, and expects
// byte-identical shards.
void expect_identical_across_simd_levels(const TempDir& dir, const std::filesystem::path& input) {
    // `none` decodes at full size (the SIMD IDCT, upsampling and colour conversion);
    // shorter:96 scales in the DCT domain and resamples.
    for (const std::string resize : {"none", "shorter:96"}) {
        std::map<std::string, std::map<std::string, std::vector<std::uint8_t>>> outputs;
        for (const std::string simd : {"", "JSIMD_FORCESSE2=1", "JSIMD_FORCENONE=1"}) {
            const auto out = dir / ("out-" + std::to_string(outputs.size()) + resize);
            const ProcessResult result =
                run_shell("env " + simd + " " +
                          convert_command(input, out, dir / "scratch",
                                          "--train-shards 2 --resize " + resize) +
                          " 2>&1");
            ASSERT_EQ(result.exit_code, 0) << simd << ": " << result.output;
            outputs[simd.empty() ? "default" : simd] = shards_of(out);
        }
        const auto& reference = outputs.at("default");
        ASSERT_EQ(reference.size(), 3U) << "two train shards and the index";
        for (const auto& [simd, shards] : outputs) {
            EXPECT_TRUE(shards == reference) << resize << ": " << simd << " changed the output";
        }
    }
}

TEST(SimdIndependence, ShardsAreByteIdenticalWithAvx2Sse2AndPlainCKernels) {
    TempDir dir;
    // The synth corpus has ImageNet's sizes with a tail of large images, so decoding
    // takes DCT-domain scaling as well as the full-size path.
    make_synth_corpus(dir / "corpus", 4, 12);
    expect_identical_across_simd_levels(dir, dir / "corpus" / "train");
}

// 4:1:0 JPEGs (a subsampling TurboJPEG's header call has no name for) go through the SIMD
// IDCT and colour conversion with libjpeg's generic upsampling instead of the 4:2:0
// kernels: they convert (exit 0: nothing rejected), and byte-identically too.
TEST(SimdIndependence, FourOneZeroJpegsAreByteIdenticalToo) {
    TempDir dir;
    make_synth_corpus(dir / "corpus", 3, 6);
    for (const auto& file : files_ending_with(dir / "corpus" / "train", ".JPEG")) {
        cv::Mat rgb = cv::imread(file.string(), cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
        ASSERT_FALSE(rgb.empty()) << file;
        cv::cvtColor(rgb, rgb, cv::COLOR_BGR2RGB);
        write_file_atomically(file, encode_with_sampling(rgb, {{{4, 2}, {1, 1}, {1, 1}}}));
    }
    expect_identical_across_simd_levels(dir, dir / "corpus" / "train");
}

}  // namespace
}  // namespace synshard::testing
