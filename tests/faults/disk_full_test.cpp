// A full disk in the middle of a shard: the conversion fails cleanly and a rerun with
// room completes.

#include <gtest/gtest.h>

#include "faults/fault_support.hpp"
#include "synshard/reader/shard_reader.hpp"

namespace synshard::testing {
namespace {

TEST(FaultsDiskFull, FailsNamingTheFileLeavesNoPartialFileAndARerunWithRoomCompletes) {
    if (!running_as_root())
        GTEST_SKIP() << "needs root to mount a small tmpfs: the full disk this test "
                        "fills (running as non-root)";
    TempDir dir;
    const auto corpus = dir / "corpus";
    make_synth_corpus(corpus, 6, 25);
    const auto disk = dir / "disk";
    TmpfsMount mount(disk, "3m");
    if (!mount.mounted())
        GTEST_SKIP() << "cannot mount the small tmpfs this test fills: " << mount.error();
    const auto out = disk / "out";
    // The spool goes to the real disk: the shard files are what fills the tmpfs.
    const std::string convert =
        convert_command(corpus / "train", out, dir / "scratch", "--train-shards 4");
    const ProcessResult full = run_shell("timeout -k 5 120 " + convert + " 2>&1");
    EXPECT_EQ(full.exit_code, 1) << full.output;
    EXPECT_NE(full.output.find("No space left on device"), std::string::npos) << full.output;
    EXPECT_NE(full.output.find((out / "train").string()), std::string::npos)
        << "the error names the file: " << full.output;
    EXPECT_TRUE(files_ending_with(disk, ".tmp").empty()) << "a temporary file was left";
    EXPECT_FALSE(std::filesystem::exists(out / "manifest.json"));
    EXPECT_FALSE(std::filesystem::exists(out / "index.h5"));
    // Shards under a final name were published before the disk filled: each is whole.
    for (const auto& shard : files_ending_with(out, ".h5")) {
        EXPECT_NO_THROW({
            const reader::ShardReader reader(shard);
            reader.scan_image_data();
        }) << shard;
    }

    ASSERT_TRUE(mount.resize("200m"));
    const ProcessResult rerun = run_shell("timeout -k 5 120 " + convert + " 2>&1");
    EXPECT_EQ(rerun.exit_code, 0) << rerun.output;
    EXPECT_TRUE(std::filesystem::exists(out / "manifest.json"));
    const ProcessResult verified = run_synshard({"verify", out.string()});
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

}  // namespace
}  // namespace synshard::testing
