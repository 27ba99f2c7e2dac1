// Issue 16 ("Trust II"), on a disk that fills up: shards published by a failed run are
// kept only when the rerun assigns them the same keys, and an output whose manifest.json
// exists is finished with its exit code recorded.

#include <gtest/gtest.h>

#include "faults/fault_support.hpp"
#include "synshard/manifest/manifest.hpp"

namespace synshard::testing {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const fs::path& path) {
    std::ifstream stream(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

void expect_same_shards(const fs::path& reference, const fs::path& out) {
    const auto differences =
        manifest::compare_shards(manifest::read_manifest(reference / "manifest.json"),
                                 manifest::read_manifest(out / "manifest.json"));
    EXPECT_TRUE(differences.empty()) << manifest::describe(differences.front());
}

// The verdict on one image changes between two runs while its size and modification
// time stay (garbage in the first run, the image again in the rerun): no fingerprint
// sees it, so only the assignment can tell that the published shards are stale.
TEST(FaultsKeptShards, APublishedShardIsRewrittenWhenTheRerunAssignsItOtherKeys) {
    if (!running_as_root())
        GTEST_SKIP() << "needs root to mount a small tmpfs: the full disk this test "
                        "fills (running as non-root)";
    TempDir dir;
    const auto corpus = dir / "corpus";
    make_synth_corpus(corpus, 6, 25);
    fs::path changed;
    for (const auto& entry : fs::directory_iterator(corpus / "train" / "n01440764")) {
        if (changed.empty() || entry.path() < changed) changed = entry.path();
    }
    const std::string image = read_bytes(changed);
    const auto modified = fs::last_write_time(changed);
    std::ofstream(changed, std::ios::binary | std::ios::trunc) << std::string(image.size(), 'x');
    fs::last_write_time(changed, modified);

    const auto disk = dir / "disk";
    TmpfsMount mount(disk, "3m");
    if (!mount.mounted())
        GTEST_SKIP() << "cannot mount the small tmpfs this test fills: " << mount.error();
    const auto out = disk / "out";
    const std::string options = "--train-shards 8 --max-reject-fraction 0.5";
    const ProcessResult full =
        run_shell("timeout -k 5 120 " +
                  convert_command(corpus / "train", out, dir / "scratch1", options) + " 2>&1");
    ASSERT_EQ(full.exit_code, 1) << full.output;
    ASSERT_FALSE(files_ending_with(out / "train", ".h5").empty())
        << "no shard was published before the disk filled";

    std::ofstream(changed, std::ios::binary | std::ios::trunc) << image;
    fs::last_write_time(changed, modified);
    ASSERT_TRUE(mount.resize("200m"));
    // A fresh scratch, as after a requeue onto another node: every image is processed
    // again and the changed one is accepted now.
    const ProcessResult rerun =
        run_shell("timeout -k 5 120 " +
                  convert_command(corpus / "train", out, dir / "scratch2", options) + " 2>&1");
    ASSERT_EQ(rerun.exit_code, 0) << rerun.output;

    const ProcessResult reference = run_shell(
        convert_command(corpus / "train", dir / "ref", dir / "scratch3", options) + " 2>&1");
    ASSERT_EQ(reference.exit_code, 0) << reference.output;
    expect_same_shards(dir / "ref", out);
    const ProcessResult verified = run_synshard({"verify", out.string()});
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

// Whatever the room left for the last writes, a run that did not finish leaves no
// manifest.json, and one that left a manifest.json exited as the journal records.
TEST(FaultsFinishOrder, AManifestOnDiskAlwaysMeansAFinishedRunWithItsExitCodeRecorded) {
    if (!running_as_root())
        GTEST_SKIP() << "needs root to mount a small tmpfs: the full disk this test "
                        "fills (running as non-root)";
    TempDir dir;
    const auto corpus = dir / "corpus";
    make_synth_corpus(corpus, 3, 6);
    const ProcessResult reference =
        run_shell(convert_command(corpus / "train", dir / "ref", dir / "ref-scratch") + " 2>&1");
    ASSERT_EQ(reference.exit_code, 0) << reference.output;
    // Every output file in whole pages, as tmpfs counts them, and the manifest's own.
    constexpr std::uintmax_t kPage = 4096;
    std::uintmax_t pages = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir / "ref")) {
        if (entry.is_regular_file()) pages += (entry.file_size() + kPage - 1) / kPage;
    }
    const std::uintmax_t manifest_pages =
        (fs::file_size(dir / "ref" / "manifest.json") + kPage - 1) / kPage;

    const auto disk = dir / "disk";
    TmpfsMount mount(disk, "64m");
    if (!mount.mounted())
        GTEST_SKIP() << "cannot mount the small tmpfs this test fills: " << mount.error();
    const auto out = disk / "out";
    int failures = 0;
    // From too little room for the manifest and the journal's last copy to enough.
    for (std::uintmax_t size = pages - 3 * manifest_pages - 2; size <= pages + 4; ++size) {
        fs::remove_all(out);
        ASSERT_TRUE(mount.resize(std::to_string(size * kPage)));
        const ProcessResult run =
            run_shell("timeout -k 5 120 " +
                      convert_command(corpus / "train", out, dir / "scratch") + " 2>&1");
        const bool has_manifest = fs::exists(out / "manifest.json");
        if (run.exit_code != 0) ++failures;
        EXPECT_EQ(has_manifest, run.exit_code == 0)
            << size << " pages: exit " << run.exit_code << "\n"
            << run.output;
        if (has_manifest) continue;
        // With room, the rerun finishes what is there.
        ASSERT_TRUE(mount.resize("64m"));
        const ProcessResult rerun =
            run_shell("timeout -k 5 120 " +
                      convert_command(corpus / "train", out, dir / "scratch") + " 2>&1");
        EXPECT_EQ(rerun.exit_code, 0) << size << " pages:\n" << rerun.output;
        expect_same_shards(dir / "ref", out);
    }
    EXPECT_GT(failures, 0) << "no size was small enough to fail a write";
}

}  // namespace
}  // namespace synshard::testing
