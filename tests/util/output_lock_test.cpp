#include "synshard/util/output_lock.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

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

}  // namespace
}  // namespace synshard
