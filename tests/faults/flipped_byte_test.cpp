// A byte flipped inside a finished shard: verify fails, naming the shard.

#include <gtest/gtest.h>

#include "faults/fault_support.hpp"
#include "verify/corrupt.hpp"

namespace synshard::testing {
namespace {

TEST(FaultsFlippedByte, VerifyFailsNamingTheShard) {
    TempDir dir;
    const auto corpus = dir / "corpus";
    make_synth_corpus(corpus, 4, 12);
    const auto out = dir / "out";
    const ProcessResult converted = run_shell(
        convert_command(corpus / "train", out, dir / "scratch", "--train-shards 3") + " 2>&1");
    ASSERT_EQ(converted.exit_code, 0) << converted.output;
    const ProcessResult clean = run_synshard({"verify", out.string(), "--full"});
    ASSERT_EQ(clean.exit_code, 0) << clean.output;
    EXPECT_NE(clean.output.find("verified 3 shards"), std::string::npos) << clean.output;

    const std::string damaged = "train/train-00001-of-00003.h5";
    flip_image_byte(out / damaged, 1);
    const ProcessResult result = run_synshard({"verify", out.string()});
    EXPECT_EQ(result.exit_code, 1) << result.output;
    // sha256 against the manifest, and HDF5's Fletcher32 when the chunk is read.
    EXPECT_NE(result.output.find(damaged + ": sha256"), std::string::npos) << result.output;
    EXPECT_TRUE(result.output.find("Fletcher32") != std::string::npos ||
                result.output.find("checksum") != std::string::npos)
        << result.output;
    for (const char* intact : {"train/train-00000-of-00003.h5", "train/train-00002-of-00003.h5"}) {
        EXPECT_EQ(result.output.find(std::string(intact) + ":"), std::string::npos)
            << result.output;
    }
}

}  // namespace
}  // namespace synshard::testing
