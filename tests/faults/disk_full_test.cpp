// A full disk in the middle of a shard: the conversion fails cleanly and a rerun with
// room completes.

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>

#include "faults/fault_support.hpp"
#include "synshard/reader/shard_reader.hpp"

namespace synshard::testing {
namespace {

// A tmpfs of `size` mounted on `dir` for the object's lifetime (lazily unmounted).
class TmpfsMount {
  public:
    TmpfsMount(std::filesystem::path dir, const std::string& size) : dir_(std::move(dir)) {
        std::filesystem::create_directories(dir_);
        const std::string options = "size=" + size;
        mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0;
        if (!mounted_) error_ = std::strerror(errno);
    }
    ~TmpfsMount() {
        if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    TmpfsMount(const TmpfsMount&) = delete;
    TmpfsMount& operator=(const TmpfsMount&) = delete;

    bool mounted() const { return mounted_; }
    const std::string& error() const { return error_; }
    // Keeps the content.
    bool resize(const std::string& size) {
        const std::string options = "size=" + size;
        return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, options.c_str()) == 0;
    }

  private:
    std::filesystem::path dir_;
    bool mounted_ = false;
    std::string error_;
};

TEST(FaultsDiskFull, FailsNamingTheFileLeavesNoPartialFileAndARerunWithRoomCompletes) {
    if (!running_as_root()) GTEST_SKIP() << "needs root to mount a tmpfs (running as non-root)";
    TempDir dir;
    const auto corpus = dir / "corpus";
    make_synth_corpus(corpus, 6, 25);
    const auto disk = dir / "disk";
    TmpfsMount mount(disk, "3m");
    if (!mount.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << mount.error();
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
