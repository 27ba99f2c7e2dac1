#include "synshard/util/output_lock.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <sstream>
#include <vector>

#include "support/test_support.hpp"
#include "synshard/util/error.hpp"

namespace synshard {
namespace {

std::string hostname() {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return name;
}

using testing::read_text;

// A pipe whose ends are closed when it dies.
class Pipe {
  public:
    Pipe() {
        if (::pipe(ends_) != 0) throw std::runtime_error("pipe failed");
    }
    ~Pipe() {
        ::close(ends_[0]);
        ::close(ends_[1]);
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    int read_end() const { return ends_[0]; }
    int write_end() const { return ends_[1]; }

  private:
    int ends_[2] = {-1, -1};
};

// Blocks the calling child until the parent writes one byte into the pipe. Siblings
// forked later inherit every pipe end, so an end-of-file never comes: bytes signal.
void wait_for_byte(const Pipe& pipe) {
    char byte = 0;
    while (::read(pipe.read_end(), &byte, 1) < 0 && errno == EINTR) {
    }
}

[[noreturn]] void stay_until_killed() {
    for (;;) ::pause();
}

// A forked process running `body`, which reports a string to the test. A lock the body
// takes stays held while the body calls stay_until_killed(), until the object dies
// (SIGKILL: the kernel releases what the child held). The child never returns into the
// test framework.
class Child {
  public:
    using Report = std::function<void(const std::string&)>;

    explicit Child(const std::function<void(const Report&)>& body) : pid_(::fork()) {
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ != 0) return;
        // Length first, then the bytes; a pipe buffers far more than any report.
        const Report report = [this](const std::string& text) {
            const std::size_t length = text.size();
            (void)!::write(report_.write_end(), &length, sizeof length);
            (void)!::write(report_.write_end(), text.data(), length);
        };
        try {
            body(report);
        } catch (const std::exception& error) {
            report(std::string("exception: ") + error.what());
        }
        stay_until_killed();
    }
    ~Child() { kill_and_reap(); }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    // What the child reported, or "(nothing within 30 s)".
    std::string report() {
        pollfd ready{report_.read_end(), POLLIN, 0};
        std::size_t length = 0;
        if (::poll(&ready, 1, 30'000) != 1 ||
            ::read(report_.read_end(), &length, sizeof length) != sizeof length) {
            return "(nothing within 30 s)";
        }
        std::string text(length, '\0');
        std::size_t filled = 0;
        while (filled < length) {
            const ssize_t got = ::read(report_.read_end(), text.data() + filled, length - filled);
            if (got <= 0) break;
            filled += static_cast<std::size_t>(got);
        }
        return text;
    }

    pid_t pid() const { return pid_; }

    void kill_and_reap() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

  private:
    Pipe report_;
    pid_t pid_;
};

// "acquired", or the refusal's kind and message: "held: ...", "unsupported: ...",
// "permission: ...", "error: ..." (any other Error).
std::string try_to_lock(const std::filesystem::path& directory) {
    try {
        OutputLock lock(directory);
        return "acquired";
    } catch (const OutputLockError& error) {
        switch (error.kind()) {
            case OutputLockError::Kind::held:
                return std::string("held: ") + error.what();
            case OutputLockError::Kind::unsupported:
                return std::string("unsupported: ") + error.what();
            case OutputLockError::Kind::permission:
                return std::string("permission: ") + error.what();
        }
    } catch (const Error& error) {
        return std::string("error: ") + error.what();
    }
    return "unknown kind";
}

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.compare(0, prefix.size(), prefix) == 0;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// A process other than synshard that holds the OFD lock on the lock file, whatever the
// file holds.
Child hold_with_a_raw_lock(const std::filesystem::path& directory) {
    return Child([directory](const Child::Report& report) {
        const int fd = ::open(OutputLock::lock_path(directory).c_str(), O_RDWR | O_CLOEXEC);
        struct flock whole_file {};
        whole_file.l_type = F_WRLCK;
        whole_file.l_whence = SEEK_SET;
        report(fd >= 0 && ::fcntl(fd, F_OFD_SETLK, &whole_file) == 0 ? "locked"
                                                                     : std::strerror(errno));
        stay_until_killed();
    });
}

pid_t a_dead_pid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);
    return child;
}

const char* const kUtcTimestamp = R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)";

pid_t write_lock_of_a_dead_process(const std::filesystem::path& directory) {
    const pid_t dead = a_dead_pid();
    std::ofstream(OutputLock::lock_path(directory), std::ios::trunc)
        << hostname() << " " << dead << " 2001-02-03T04:05:06Z\n";
    return dead;
}

TEST(OutputLock, ASecondHolderIsRefusedWithTheFirstOnesHostPidStartTimeAndRecovery) {
    testing::TempDir dir;
    OutputLock first(dir.path());
    // OFD locks belong to an open of the file, not to a process: a second open conflicts
    // even in the same process.
    const std::string refused = try_to_lock(dir.path());
    const std::string lock_file = OutputLock::lock_path(dir.path()).string();
    EXPECT_TRUE(starts_with(refused, "held: ")) << refused;
    EXPECT_TRUE(std::regex_search(
        refused, std::regex("host " + hostname() + ", pid " + std::to_string(::getpid()) +
                            ", started " + kUtcTimestamp)))
        << refused;
    EXPECT_TRUE(contains(refused, "If no synshard run is active on " + hostname() +
                                      ", the lock is held by a process of another node or a "
                                      "stale client of the file system"))
        << refused;
    EXPECT_TRUE(contains(refused, "remove " + lock_file)) << refused;
}

TEST(OutputLock, TwoRunsRacingForALockLeftByADeadProcessNeverBothGetIt) {
    testing::TempDir dir;
    constexpr int kRounds = 200;
    for (int round = 0; round < kRounds; ++round) {
        write_lock_of_a_dead_process(dir.path());
        Pipe start;
        const auto race = [&](const Child::Report& report) {
            wait_for_byte(start);
            std::optional<OutputLock> lock;
            try {
                lock.emplace(dir.path());
            } catch (const Error&) {
            }
            report(lock ? "W" : "L");
            stay_until_killed();
        };
        Child first(race);
        Child second(race);
        // Both children block reading one byte each; one write wakes both at once.
        ASSERT_EQ(::write(start.write_end(), "gg", 2), 2);
        const std::string outcomes = first.report() + second.report();
        ASSERT_TRUE(outcomes == "WL" || outcomes == "LW")
            << "round " << round << ": " << outcomes << " (W acquired, L refused)";
    }
}

TEST(OutputLock, AKilledHolderReleasesItAndTheFileStaysWithTheNextHoldersName) {
    testing::TempDir dir;
    const auto lock_file = OutputLock::lock_path(dir.path());
    Child holder([&](const Child::Report& report) {
        OutputLock lock(dir.path());
        report("acquired");
        stay_until_killed();
    });
    ASSERT_EQ(holder.report(), "acquired");
    const std::string refused = try_to_lock(dir.path());
    EXPECT_TRUE(starts_with(refused, "held: ")) << refused;
    EXPECT_TRUE(contains(refused, "pid " + std::to_string(holder.pid()))) << refused;
    holder.kill_and_reap();
    {
        OutputLock taken(dir.path());
        const std::regex holder_line(hostname() + " " + std::to_string(::getpid()) + " " +
                                     kUtcTimestamp + "\n");
        EXPECT_TRUE(std::regex_match(read_text(lock_file), holder_line)) << read_text(lock_file);
    }
    EXPECT_TRUE(std::filesystem::exists(lock_file))
        << "the lock file is never removed: a run that opened it may be about to lock it";
    EXPECT_EQ(try_to_lock(dir.path()), "acquired");
}

TEST(OutputLock, AHeldEmptyLockFileIsReportedAsEmpty) {
    testing::TempDir dir;
    std::ofstream(OutputLock::lock_path(dir.path())).close();
    Child holder = hold_with_a_raw_lock(dir.path());
    ASSERT_EQ(holder.report(), "locked");
    const std::string refused = try_to_lock(dir.path());
    EXPECT_TRUE(starts_with(refused, "held: ")) << refused;
    EXPECT_TRUE(
        contains(refused, "the lock file is empty: its holder is starting, or wrote nothing"))
        << refused;
    EXPECT_TRUE(
        contains(refused,
                 "If no synshard run is writing this output on any node, the lock is held by "
                 "another process of this or another node"))
        << refused;
}

TEST(OutputLock, AHeldGarbageLockFileIsReportedAsGarbageWithASanitizedPrefix) {
    testing::TempDir dir;
    std::ofstream(OutputLock::lock_path(dir.path()), std::ios::binary) << "\x1b[2Jhello \"world\"\n"
                                                                       << std::string(100, 'x');
    Child holder = hold_with_a_raw_lock(dir.path());
    ASSERT_EQ(holder.report(), "locked");
    const std::string refused = try_to_lock(dir.path());
    EXPECT_TRUE(starts_with(refused, "held: ")) << refused;
    EXPECT_TRUE(contains(refused,
                         "the lock file is garbage, not a holder's name as synshard "
                         "writes it: \"\\x1b[2Jhello \\x22world\\x22\\x0a" +
                             std::string(22, 'x') + "\"..."))
        << refused;
    EXPECT_FALSE(contains(refused, "\x1b")) << "control bytes reach the terminal";
}

TEST(OutputLock, AHolderTheFileNamesThatIsGoneIsSaidToHaveHandedTheLockOn) {
    testing::TempDir dir;
    const std::string dead_pid = std::to_string(write_lock_of_a_dead_process(dir.path()));
    Child holder = hold_with_a_raw_lock(dir.path());
    ASSERT_EQ(holder.report(), "locked");
    const std::string refused = try_to_lock(dir.path());
    EXPECT_TRUE(starts_with(refused, "held: ")) << refused;
    EXPECT_TRUE(contains(refused, "pid " + dead_pid + ", started 2001-02-03T04:05:06Z")) << refused;
    EXPECT_TRUE(contains(refused, "no pid " + dead_pid + " runs on this host now")) << refused;
}

// Root may open any file, so as root the attempt runs as `nobody` (uid 65534), as in
// tests/faults/unreadable_input_test.cpp; here a forked child switches itself instead of
// running a command under setpriv.
TEST(OutputLock, ALockFileTheUserMayNotOpenOrCreateIsAPermissionProblem) {
    constexpr uid_t kNobody = 65534;
    testing::TempDir dir;
    std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
    const auto unopenable = dir / "unopenable";
    const auto uncreatable = dir / "uncreatable";
    std::filesystem::create_directories(unopenable);
    std::filesystem::create_directories(uncreatable);
    std::filesystem::permissions(unopenable, std::filesystem::perms::all);
    std::ofstream(OutputLock::lock_path(unopenable)).close();
    std::filesystem::permissions(
        OutputLock::lock_path(unopenable),
        ::geteuid() == 0 ? std::filesystem::perms::owner_read | std::filesystem::perms::owner_write
                         : std::filesystem::perms::none);
    // r-x for everyone: neither its owner nor `nobody` may create the lock file in it.
    std::filesystem::permissions(
        uncreatable, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec |
                         std::filesystem::perms::group_read | std::filesystem::perms::group_exec |
                         std::filesystem::perms::others_read | std::filesystem::perms::others_exec);
    Child attempt([&](const Child::Report& report) {
        if (::geteuid() == 0 &&
            (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
             ::setresuid(kNobody, kNobody, kNobody) != 0)) {
            report(std::string("skip: the permission checks need a user without root's rights, "
                               "and switching to uid 65534 failed: ") +
                   std::strerror(errno));
            return;
        }
        report(try_to_lock(unopenable));
        report(try_to_lock(uncreatable));
    });
    const std::string opened = attempt.report();
    if (starts_with(opened, "skip: ")) GTEST_SKIP() << opened;
    const std::string created = attempt.report();

    EXPECT_TRUE(starts_with(opened, "permission: cannot open lock file " +
                                        OutputLock::lock_path(unopenable).string() +
                                        ": Permission denied. This is a permission problem, "
                                        "not another run: check the owner and mode of the file"))
        << opened;
    EXPECT_TRUE(starts_with(created, "permission: cannot create lock file " +
                                         OutputLock::lock_path(uncreatable).string() +
                                         ": Permission denied. This is a permission problem, "
                                         "not another run: check the owner and mode of the "
                                         "directory " +
                                         uncreatable.string()))
        << created;
    EXPECT_FALSE(std::filesystem::exists(OutputLock::lock_path(uncreatable)));
}

// ENOLCK and ENOSYS come from Lustre or NFS mounts without working locks, which this
// machine lacks: the message is checked on the file systems it has.
TEST(OutputLock, AnUnsupportedLockNamesTheFileSystemAndOffersNoLock) {
    testing::TempDir dir;
    std::vector<std::filesystem::path> directories{dir.path(), "/proc"};
    if (std::filesystem::is_directory("/dev/shm")) directories.emplace_back("/dev/shm");
    for (const auto& directory : directories) {
        const auto found =
            testing::run_shell("findmnt -n -o FSTYPE,TARGET -T " + directory.string());
        if (found.exit_code != 0) {
            GTEST_SKIP() << "findmnt cannot name the file system of " << directory
                         << " here (util-linux's findmnt, bash cluster/install-deps.sh): "
                         << found.output;
        }
        std::istringstream fields(found.output);
        std::string type, mount_point;
        fields >> type >> mount_point;
        for (const int errno_value : {ENOLCK, ENOSYS}) {
            const std::string message =
                OutputLock::unsupported_message(OutputLock::lock_path(directory), errno_value);
            EXPECT_TRUE(contains(message, std::strerror(errno_value))) << message;
            EXPECT_TRUE(contains(message, "The file system holding " + directory.string() + " (" +
                                              type + " at " + mount_point + ")"))
                << message;
            EXPECT_TRUE(contains(message,
                                 "Rerun with --no-lock if no other conversion can "
                                 "write this output."))
                << message;
        }
    }
}

TEST(OutputLock, ASymlinkAtTheLockPathIsRefusedAndItsTargetLeftAlone) {
    testing::TempDir dir;
    std::ofstream(dir / "thesis.tex") << "years of work";
    std::filesystem::create_symlink(dir / "thesis.tex", OutputLock::lock_path(dir.path()));
    const std::string refused = try_to_lock(dir.path());
    EXPECT_TRUE(starts_with(refused, "error: ")) << refused;
    EXPECT_TRUE(contains(refused, "is a symbolic link")) << refused;
    EXPECT_EQ(read_text(dir / "thesis.tex"), "years of work");
}

}  // namespace
}  // namespace synshard
