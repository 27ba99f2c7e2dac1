#include "synshard/verify/verify.hpp"

#include <gtest/gtest.h>

#include "sample_output/sample_output.hpp"
#include "support/test_support.hpp"
#include "synshard/cli/command.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/util/bytes.hpp"
#include "verify/corrupt.hpp"

namespace synshard::verify {
namespace {

// The report as bytes, to compare what every rank returned.
std::vector<std::uint8_t> flatten(const Report& report) {
    ByteWriter writer;
    writer.put(report.shards);
    writer.put(report.samples);
    writer.put(report.bytes);
    writer.put(report.images_decoded);
    for (const auto& problem : report.problems) {
        writer.put_string(problem.file);
        writer.put_string(problem.what);
    }
    return writer.buffer();
}

// Every rank got the root's report.
bool same_everywhere(const mpi::Comm& comm, const Report& report) {
    const auto mine = flatten(report);
    const auto all = comm.all_gather(mine);
    return std::all_of(all.begin(), all.end(), [&](const auto& bytes) { return bytes == mine; });
}

TEST(VerifyMpi, ShardsAreSharedOutAndTheReportIsTheSameOnEveryRank) {
    const mpi::Comm comm;
    testing::TempDir dir;
    if (comm.is_root()) testing::write_sample_output(dir.path(), false);
    comm.barrier();
    const Report report = verify(VerifyOptions{dir.path(), true, 0, {}}, comm);
    EXPECT_TRUE(report.ok()) << describe(report);
    EXPECT_EQ(report.shards, 3u);
    EXPECT_EQ(report.samples,
              static_cast<std::uint64_t>(testing::kTrainSamples + testing::kValSamples));
    EXPECT_EQ(report.images_decoded, report.samples);
    EXPECT_TRUE(same_everywhere(comm, report));
}

TEST(VerifyMpi, AConvertedOutputPassesEveryClaimAtThisRankCount) {
    const mpi::Comm comm;
    testing::TempDir dir;
    const auto corpus = dir.path() / "corpus";
    const auto out = dir.path() / "out";
    if (comm.is_root()) {
        const auto synth = testing::run_synshard(
            {"synth", "--output", corpus.string(), "--num-classes", "6", "--per-class", "5",
             "--val-per-class", "2", "--image-size", "96x64", "--seed", "9", "--quirks"});
        ASSERT_EQ(synth.exit_code, 0) << synth.output;
    }
    comm.barrier();
    const auto command = cli::convert_command();
    const auto values = cli::parse_command_line(
        command, {"--input", (corpus / "train").string(), "--val-input", (corpus / "val").string(),
                  "--val-labels", (corpus / "LOC_val_solution.csv").string(), "--boxes",
                  (corpus / "Annotation").string(), "--resize", "fit:40x30", "--shard-size", "8",
                  "--max-reject-fraction", "0.5", "--quiet", "--output", out.string()});
    // The command's own path, which records the options in the manifest.
    const ExitCode code = command.execute(values, comm);
    ASSERT_EQ(code, ExitCode::completed_with_rejections);
    const Report report = verify(VerifyOptions{out, true, 0, {}}, comm);
    EXPECT_TRUE(report.ok()) << describe(report);
    EXPECT_GT(report.shards, 2u);
    EXPECT_EQ(report.images_decoded, report.samples);
    EXPECT_TRUE(same_everywhere(comm, report));
}

TEST(VerifyMpi, DamagedShardIsNamedWhicheverRankChecksIt) {
    const mpi::Comm comm;
    testing::TempDir dir;
    if (comm.is_root()) {
        testing::write_sample_output(dir.path(), false);
        testing::flip_image_byte(dir / "train/train-00001-of-00002.h5", 1);
    }
    comm.barrier();
    const Report report = verify(VerifyOptions{dir.path(), false, 4, {}}, comm);
    EXPECT_FALSE(report.ok());
    bool named = false;
    for (const auto& problem : report.problems) {
        EXPECT_EQ(problem.file, "train/train-00001-of-00002.h5") << problem.what;
        named |= problem.what.find("sha256") != std::string::npos;
    }
    EXPECT_TRUE(named) << describe(report);
    EXPECT_TRUE(same_everywhere(comm, report));
}

}  // namespace
}  // namespace synshard::verify
