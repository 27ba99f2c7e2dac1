#include "synshard/util/output_lock.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include "support/test_support.hpp"
#include "synshard/util/error.hpp"

namespace synshard {
namespace {

std::string hostname() {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return name;
}

TEST(OutputLock, SecondHolderIsRefusedWithTheFirstOnesIdentity) {
    testing::TempDir dir;
    {
        OutputLock first(dir.path());
        try {
            OutputLock second(dir.path());
            FAIL() << "second lock acquired";
        } catch (const Error& error) {
            EXPECT_NE(std::string(error.what()).find("pid " + std::to_string(::getpid())),
                      std::string::npos)
                << error.what();
        }
    }
    EXPECT_FALSE(std::filesystem::exists(OutputLock::lock_path(dir.path())));
    OutputLock again(dir.path());
}

TEST(OutputLock, ALockLeftByADeadProcessOnThisHostIsTakenOver) {
    testing::TempDir dir;
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ASSERT_GT(child, 0);
    ::waitpid(child, nullptr, 0);
    std::ofstream(OutputLock::lock_path(dir.path())) << hostname() << " " << child << "\n";
    EXPECT_NO_THROW(OutputLock taken(dir.path()));
    std::ofstream(OutputLock::lock_path(dir.path())) << "other-host " << child << "\n";
    EXPECT_THROW(OutputLock refused(dir.path()), Error);
}

TEST(OutputLock, AKilledHolderNotYetReapedIsGone) {
    testing::TempDir dir;
    const pid_t child = ::fork();
    if (child == 0) {
        ::pause();
        ::_exit(0);
    }
    ASSERT_GT(child, 0);
    std::ofstream(OutputLock::lock_path(dir.path())) << hostname() << " " << child << "\n";
    EXPECT_THROW(OutputLock refused(dir.path()), Error) << "a live holder keeps its lock";
    ::kill(child, SIGKILL);
    // A zombie until waitpid(): waitid with WNOWAIT sees it die without reaping it.
    siginfo_t info{};
    ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
    EXPECT_NO_THROW(OutputLock taken(dir.path()));
    ::waitpid(child, nullptr, 0);
}

}  // namespace
}  // namespace synshard
