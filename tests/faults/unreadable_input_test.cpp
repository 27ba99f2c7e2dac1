// Inputs that cannot be read as files: each is rejected with its reason, nothing hangs,
// and the rest converts.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "faults/fault_support.hpp"

namespace synshard::testing {
namespace {

constexpr const char* kNobody = "65534";

// Lets `nobody` read everything under root and write into the directories.
void open_up(const std::filesystem::path& root) {
    std::filesystem::permissions(root, std::filesystem::perms::all);
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        if (entry.is_symlink()) continue;
        std::filesystem::permissions(entry.path(), entry.is_directory()
                                                       ? std::filesystem::perms::all
                                                       : std::filesystem::perms::owner_all |
                                                             std::filesystem::perms::group_read |
                                                             std::filesystem::perms::others_read);
    }
}

// The first class folder of a synth corpus's train directory, and one image in it.
std::filesystem::path first_class(const std::filesystem::path& train) {
    std::vector<std::filesystem::path> classes;
    for (const auto& entry : std::filesystem::directory_iterator(train)) classes.push_back(entry);
    std::sort(classes.begin(), classes.end());
    return classes.at(0);
}

TEST(FaultsUnreadableInput, UnreadableFifoSymlinkAndDirectoryAreRejectedAndTheRunCompletes) {
    if (!running_as_root())
        GTEST_SKIP() << "root reads any file, so the unreadable inputs need an unprivileged "
                        "user, and only root can switch to one";
    if (run_shell("setpriv --reuid=" + std::string(kNobody) + " --regid=" + kNobody +
                  " --clear-groups true")
            .exit_code != 0) {
        GTEST_SKIP() << "setpriv cannot switch to uid " << kNobody
                     << " here, the unprivileged user for whom the inputs are unreadable";
    }
    TempDir dir;
    const auto corpus = dir / "corpus";
    make_synth_corpus(corpus, 3, 20);
    const auto folder = first_class(corpus / "train");
    const std::string wnid = folder.filename().string();
    std::vector<std::filesystem::path> images;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) images.push_back(entry);
    std::sort(images.begin(), images.end());
    const auto locked = images.at(0);
    const std::string fifo = wnid + "_900001.JPEG";
    const std::string dangling = wnid + "_900002.JPEG";
    const std::string directory = wnid + "_900003.JPEG";
    ASSERT_EQ(::mkfifo((folder / fifo).c_str(), 0666), 0);
    std::filesystem::create_symlink(dir / "nowhere.JPEG", folder / dangling);
    std::filesystem::create_directory(folder / directory);
    std::filesystem::create_directory(dir / "out");
    open_up(dir.path());
    std::filesystem::permissions(locked, std::filesystem::perms::none);

    const auto out = dir / "out" / "converted";
    const ProcessResult result =
        run_shell("cd / && HOME=" + shell_quote(dir.path().string()) +
                  " timeout -k 5 120 setpriv --reuid=" + kNobody + " --regid=" + kNobody +
                  " --clear-groups " +
                  convert_command(corpus / "train", out, dir / "out" / "scratch",
                                  "--max-reject-fraction 0.5") +
                  " 2>&1");
    ASSERT_EQ(result.exit_code, 3) << "completed with rejections (124 = hung): " << result.output;
    const auto manifest = read_json(out / "manifest.json");
    EXPECT_EQ(rejected_reasons(manifest, locked.filename().string()),
              std::vector<std::string>{"unreadable"})
        << manifest["rejected"].dump(2);
    for (const auto& name : {fifo, dangling, directory}) {
        EXPECT_EQ(rejected_reasons(manifest, name), std::vector<std::string>{"not-a-file"})
            << name << ": " << manifest["rejected"].dump(2);
    }
    // Everything else converted: 3 classes' images less the locked one.
    std::uint64_t planned = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(corpus / "train")) {
        planned += entry.is_regular_file() && !entry.is_symlink() ? 1 : 0;
    }
    EXPECT_EQ(manifest["splits"]["train"]["num_samples"].get<std::uint64_t>(), planned - 1);
}

}  // namespace
}  // namespace synshard::testing
