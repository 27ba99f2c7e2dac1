// Issue 16, item 3: damaged scratch (a flipped byte in a spool or an outcome list, a
// truncated or missing file) never reaches a shard. A resume either processes the damaged
// pieces again, warning about the file, and writes the reference's bytes, or fails naming
// the file, and then its rerun writes the reference's bytes.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "faults/fault_support.hpp"

namespace synshard::testing {
namespace {

namespace fs = std::filesystem;

std::vector<char> read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::vector<char>& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Where `part` first occurs in the file's bytes; fails the test when it does not.
std::size_t offset_of(const std::vector<char>& bytes, const std::string& part) {
    const auto found = std::search(bytes.begin(), bytes.end(), part.begin(), part.end());
    EXPECT_NE(found, bytes.end()) << "'" << part << "' not found";
    return static_cast<std::size_t>(found - bytes.begin());
}

// What a conversion wrote that must not depend on how it got there: every .h5 file (by
// relative path, with its bytes) and what the manifest says of the images.
struct Written {
    std::vector<std::pair<std::string, std::vector<char>>> files;
    nlohmann::json manifest;

    friend bool operator==(const Written&, const Written&) = default;
};

Written outcome_of(const fs::path& out) {
    Written written;
    for (const auto& path : files_ending_with(out, ".h5"))
        written.files.emplace_back(fs::relative(path, out).string(), read_bytes(path));
    std::sort(written.files.begin(), written.files.end());
    if (fs::exists(out / "manifest.json")) {
        const auto manifest = read_json(out / "manifest.json");
        for (const char* section :
             {"splits", "classes", "rejected", "duplicates", "leaks", "stats"})
            written.manifest[section] = manifest.at(section);
    }
    return written;
}

// A failed conversion of a small corpus left every piece's spool and outcome list on
// scratch (one image is broken, and as many shards as inputs were asked for); resuming it
// with 3 shards reuses them. The reference is a clean run with those final options.
class FaultsScratchCorruption : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto synth = run_synshard(
            {"synth", "--output", (dir_ / "corpus").string(), "--num-classes", "3", "--per-class",
             "4", "--val-per-class", "0", "--image-size", "96x64", "--seed", "5"});
        ASSERT_EQ(synth.exit_code, 0) << synth.output;
        std::vector<fs::path> images;
        for (const auto& entry : fs::recursive_directory_iterator(dir_ / "corpus" / "train"))
            if (entry.is_regular_file()) images.push_back(entry.path());
        std::ofstream(*std::max_element(images.begin(), images.end()), std::ios::trunc)
            << "not an image";

        // As many shards as inputs: only processing finds that one is missing.
        const std::string shards = std::to_string(images.size());
        const auto failed = convert(out(), scratch(), shards);
        ASSERT_EQ(failed.exit_code, 1) << failed.output;
        ASSERT_NE(failed.output.find("asked for " + shards + " shards"), std::string::npos)
            << failed.output;
        const auto reference = convert(dir_ / "ref", dir_ / "ref-scratch", "3");
        ASSERT_EQ(reference.exit_code, 3) << reference.output;
        reference_ = outcome_of(dir_ / "ref");
        ASSERT_FALSE(reference_.files.empty());
        // Kept aside, so that every damage starts from the same state.
        fs::create_directories(dir_ / "saved");
        fs::copy(out(), dir_ / "saved" / "out", fs::copy_options::recursive);
        fs::copy(scratch(), dir_ / "saved" / "scratch", fs::copy_options::recursive);
    }

    ProcessResult convert(const fs::path& out, const fs::path& scratch,
                          const std::string& shards) const {
        return run_synshard({"convert", "--input", (dir_ / "corpus" / "train").string(), "--output",
                             out.string(), "--scratch", scratch.string(), "--resize", "shorter:32",
                             "--max-reject-fraction", "0.5", "--train-shards", shards});
    }
    ProcessResult resume() const { return convert(out(), scratch(), "3"); }

    fs::path out() const { return dir_ / "out"; }
    fs::path scratch() const { return dir_ / "scratch"; }

    void restore() const {
        fs::remove_all(out());
        fs::remove_all(scratch());
        fs::copy(dir_ / "saved" / "out", out(), fs::copy_options::recursive);
        fs::copy(dir_ / "saved" / "scratch", scratch(), fs::copy_options::recursive);
    }

    // The spool folder's files whose name ends with suffix (whatever the folder is called).
    std::vector<fs::path> scratch_files(const std::string& suffix) const {
        std::vector<fs::path> found;
        for (const auto& folder : fs::directory_iterator(scratch())) {
            if (!folder.path().filename().string().starts_with("synshard-")) continue;
            for (const auto& path : files_ending_with(folder.path(), suffix)) found.push_back(path);
        }
        std::sort(found.begin(), found.end());
        return found;
    }

    // The first spool that holds records, and the first outcome list.
    fs::path a_spool() const {
        auto spools = scratch_files(".spool");
        // The spool of a piece whose inputs were all rejected is empty.
        std::erase_if(spools, [](const fs::path& file) { return fs::file_size(file) == 0; });
        EXPECT_FALSE(spools.empty());
        return spools.empty() ? fs::path() : spools.front();
    }
    fs::path an_outcome_list() const {
        const auto lists = scratch_files(".done");
        EXPECT_FALSE(lists.empty());
        return lists.empty() ? fs::path() : lists.front();
    }

    // The first key in a file of the spool folder.
    static std::string first_key_in(const std::vector<char>& bytes) {
        const std::string prefix = "n0";
        const auto at = offset_of(bytes, prefix);
        const auto end = offset_of(bytes, ".JPEG");
        return std::string(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                           bytes.begin() + static_cast<std::ptrdiff_t>(end) + 5);
    }

    bool identical_to_reference() const { return outcome_of(out()) == reference_; }

    // The resume after `damaged` was damaged (never silently different): it completes
    // with the reference's bytes and a warning naming the file, or, when that is not
    // `required_reprocessing`, it may also fail naming the file and its rerun completes so.
    void expect_caught(const fs::path& damaged, bool required_reprocessing = true) const {
        // Messages name it by its path inside the spool folder.
        const std::string name = (damaged.parent_path().filename() / damaged.filename()).string();
        const auto first = resume();
        EXPECT_NE(first.output.find(name), std::string::npos) << "the damaged file is not named:\n"
                                                              << first.output;
        if (first.exit_code == 3 || required_reprocessing) {
            EXPECT_EQ(first.exit_code, 3) << first.output;
            EXPECT_TRUE(identical_to_reference())
                << "the shards differ from the reference after " << name << " was damaged:\n"
                << first.output;
            return;
        }
        EXPECT_EQ(first.exit_code, 1) << first.output;
        const auto second = resume();
        EXPECT_EQ(second.exit_code, 3) << second.output;
        EXPECT_TRUE(identical_to_reference())
            << "the rerun's shards differ from the reference after " << name << " was damaged:\n"
            << second.output;
    }

    TempDir dir_;
    Written reference_;
};

TEST_F(FaultsScratchCorruption, AnUndamagedResumeWritesTheReferenceBytes) {
    const auto resumed = resume();
    EXPECT_EQ(resumed.exit_code, 3) << resumed.output;
    EXPECT_NE(resumed.output.find("resuming"), std::string::npos) << resumed.output;
    EXPECT_EQ(resumed.output.find("warn"), std::string::npos) << resumed.output;
    EXPECT_TRUE(identical_to_reference());
}

TEST_F(FaultsScratchCorruption, AFlippedByteInASpoolsImageDataIsCaught) {
    const auto spool = a_spool();
    auto bytes = read_bytes(spool);
    // 100 bytes into the first stored JPEG.
    const auto at = offset_of(bytes, "\xFF\xD8\xFF") + 100;
    ASSERT_LT(at, bytes.size());
    bytes[at] = static_cast<char>(bytes[at] ^ 0x10);
    write_bytes(spool, bytes);
    expect_caught(spool);
}

TEST_F(FaultsScratchCorruption, AFlippedByteInASpoolsKeyIsCaught) {
    const auto spool = a_spool();
    auto bytes = read_bytes(spool);
    bytes[offset_of(bytes, "n0") + 2] = '"';  // n0"1440764/...: a key that does not exist
    write_bytes(spool, bytes);
    expect_caught(spool);
}

// A field of the first image of an outcome list, `after` bytes past the end of its key
// (label, split, keyed hash, source sha256, pixel sums follow the key), changed by +1.
class FaultsOutcomeListField : public FaultsScratchCorruption {
  protected:
    void change_field(std::size_t after) {
        const auto list = an_outcome_list();
        auto bytes = read_bytes(list);
        const std::string key = first_key_in(bytes);
        const auto at = offset_of(bytes, key) + key.size() + after;
        ASSERT_LT(at, bytes.size());
        bytes[at] = static_cast<char>(bytes[at] + 1);
        write_bytes(list, bytes);
        expect_caught(list);
    }
};

TEST_F(FaultsOutcomeListField, AChangedLabelIsCaught) {
    change_field(0);
}

TEST_F(FaultsOutcomeListField, AChangedKeyedHashIsCaught) {
    change_field(sizeof(std::int32_t) + 1 + 7);  // the hash's most significant byte
}

TEST_F(FaultsOutcomeListField, AChangedPixelSumIsCaught) {
    change_field(sizeof(std::int32_t) + 1 + sizeof(std::uint64_t) + 32);
}

TEST_F(FaultsScratchCorruption, ATruncatedOutcomeListIsNamedAndItsPieceProcessedAgain) {
    const auto list = an_outcome_list();
    fs::resize_file(list, fs::file_size(list) / 2);
    expect_caught(list);
}

TEST_F(FaultsScratchCorruption, ATruncatedSpoolIsNamedAndItsPieceProcessedAgain) {
    const auto spool = a_spool();
    fs::resize_file(spool, fs::file_size(spool) / 2);
    expect_caught(spool);
}

TEST_F(FaultsScratchCorruption, AMissingSpoolIsNamedAndItsPieceProcessedAgain) {
    const auto spool = a_spool();
    fs::remove(spool);
    expect_caught(spool);
}

// The "done when": one byte flipped at a random offset of a random spool or
// outcome list, 20 times from the same state. SYNSHARD_CORRUPTION_SEED replays a seed.
TEST_F(FaultsScratchCorruption, RandomFlippedBytesNeverGiveADifferentOutput) {
    std::uint64_t seed = 16;
    if (const char* given = std::getenv("SYNSHARD_CORRUPTION_SEED")) seed = std::stoull(given);
    std::cout << "SYNSHARD_CORRUPTION_SEED=" << seed << "\n";
    std::mt19937_64 random(seed);
    for (int trial = 0; trial < 20; ++trial) {
        restore();
        auto files = scratch_files(".spool");
        const auto lists = scratch_files(".done");
        files.insert(files.end(), lists.begin(), lists.end());
        std::erase_if(files, [](const fs::path& file) { return fs::file_size(file) == 0; });
        ASSERT_GE(files.size(), 2u);
        const auto& file = files[random() % files.size()];
        auto bytes = read_bytes(file);
        const auto at = random() % bytes.size();
        bytes[at] = static_cast<char>(bytes[at] ^ (1 << (random() % 8)));
        write_bytes(file, bytes);
        SCOPED_TRACE("seed " + std::to_string(seed) + ", trial " + std::to_string(trial) + ": " +
                     file.string() + " byte " + std::to_string(at));
        expect_caught(file, /*required_reprocessing=*/false);
        if (HasFailure()) break;
    }
}

// Holds every open() of one file until the test lets it through (fanotify permission
// events: root only), so a test can act at a known point of a running conversion.
class OpenGate {
  public:
    explicit OpenGate(const fs::path& file)
        : fd_(::fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY)) {
        if (fd_ >= 0 &&
            ::fanotify_mark(fd_, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, file.c_str()) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    // Closing the group lets every held open() through.
    ~OpenGate() {
        if (fd_ >= 0) ::close(fd_);
    }
    OpenGate(const OpenGate&) = delete;
    OpenGate& operator=(const OpenGate&) = delete;

    bool armed() const { return fd_ >= 0; }

    // Waits a moment for opens of the file; runs `held` while each opener waits, then lets
    // it through.
    void pass(const std::function<void()>& held) const {
        pollfd ready{fd_, POLLIN, 0};
        if (::poll(&ready, 1, 100) <= 0) return;
        alignas(fanotify_event_metadata) char buffer[4096];
        const ssize_t got = ::read(fd_, buffer, sizeof buffer);
        auto* event = reinterpret_cast<fanotify_event_metadata*>(buffer);
        for (auto left = static_cast<int>(got); FAN_EVENT_OK(event, left);
             event = FAN_EVENT_NEXT(event, left)) {
            if ((event->mask & FAN_OPEN_PERM) != 0) {
                held();
                const fanotify_response allow{event->fd, FAN_ALLOW};
                EXPECT_EQ(::write(fd_, &allow, sizeof allow), static_cast<ssize_t>(sizeof allow));
            }
            ::close(event->fd);
        }
    }

  private:
    int fd_;
};

// A spool damaged while the conversion that wrote it runs (after the piece was written,
// before the write phase reads it back): the run fails naming the spool, and rerunning the
// same command processes that piece again and writes the reference's bytes.
TEST(FaultsSpoolDamagedInTheWritePhase, FailsNamingTheSpoolAndTheRerunProcessesItsPieceAgain) {
    if (!running_as_root())
        GTEST_SKIP() << "needs root for fanotify permission events, which hold the run "
                        "while the test damages its spool";
    TempDir dir;
    const auto synth = run_synshard({"synth", "--output", (dir / "corpus").string(),
                                     "--num-classes", "3", "--per-class", "4", "--val-per-class",
                                     "0", "--image-size", "96x64", "--seed", "5"});
    ASSERT_EQ(synth.exit_code, 0) << synth.output;
    const auto convert = [&](const fs::path& out) {
        return run_synshard({"convert", "--input", (dir / "corpus" / "train").string(), "--output",
                             out.string(), "--scratch", (dir / "scratch").string(), "--resize",
                             "shorter:32", "--train-shards", "3"});
    };
    const auto reference = convert(dir / "ref");
    ASSERT_EQ(reference.exit_code, 0) << reference.output;

    // The last input (of the last class) is processed after the other classes' pieces.
    std::vector<fs::path> images;
    for (const auto& entry : fs::recursive_directory_iterator(dir / "corpus" / "train"))
        if (entry.is_regular_file()) images.push_back(entry.path());
    const OpenGate gate(*std::max_element(images.begin(), images.end()));
    if (!gate.armed())
        GTEST_SKIP() << "fanotify permission events are not available here: they hold "
                        "the run while the test damages its spool";
    auto run = std::async(std::launch::async, [&] { return convert(dir / "out"); });
    fs::path damaged;
    while (run.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        gate.pass([&] {
            if (!damaged.empty()) return;
            auto spools = files_ending_with(dir / "scratch", ".spool");
            std::erase_if(spools, [](const fs::path& file) { return fs::file_size(file) == 0; });
            if (spools.empty()) return;
            damaged = *std::min_element(spools.begin(), spools.end());
            auto bytes = read_bytes(damaged);
            bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x04);
            write_bytes(damaged, bytes);
        });
    }
    const auto failed = run.get();
    ASSERT_FALSE(damaged.empty()) << "no spool existed when the last input was opened";
    EXPECT_EQ(failed.exit_code, 1) << failed.output;
    const std::string name = (damaged.parent_path().filename() / damaged.filename()).string();
    EXPECT_NE(failed.output.find(name), std::string::npos) << failed.output;
    EXPECT_NE(failed.output.find("processed again"), std::string::npos) << failed.output;

    const auto rerun = convert(dir / "out");
    EXPECT_EQ(rerun.exit_code, 0) << rerun.output;
    EXPECT_TRUE(outcome_of(dir / "out") == outcome_of(dir / "ref"))
        << "the rerun differs from the reference:\n"
        << rerun.output;
}

}  // namespace
}  // namespace synshard::testing
