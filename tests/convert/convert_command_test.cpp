#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include "convert/convert_fixture.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/util/output_lock.hpp"

namespace synshard::convert {
namespace {

class ConvertCommand : public testing::ConvertFixture {};

TEST_F(ConvertCommand, ExpectManifestAcceptsAReproductionAndListsEveryDifference) {
    const auto first = convert(dir_ / "first");
    ASSERT_EQ(first.exit_code, 0) << first.output;
    const auto manifest_path = dir_ / "first" / "manifest.json";
    const auto same = convert(dir_ / "second", {"--expect-manifest", manifest_path.string()});
    EXPECT_EQ(same.exit_code, 0) << same.output;
    EXPECT_NE(same.output.find("every shard matches"), std::string::npos) << same.output;

    auto tampered = manifest::read_manifest(manifest_path);
    auto& shard = tampered.splits.at("train").shards.at(0);
    shard.sha256 = std::string(64, '0');
    manifest::write_manifest(dir_ / "tampered.json", tampered);
    const auto differs =
        convert(dir_ / "third", {"--expect-manifest", (dir_ / "tampered.json").string()});
    EXPECT_EQ(differs.exit_code, 1) << differs.output;
    EXPECT_NE(differs.output.find(shard.path + ": expected " + std::string(64, '0')),
              std::string::npos)
        << differs.output;
}

TEST_F(ConvertCommand, ASecondConversionOfTheSameOutputSaysWhoHoldsItAndExits1) {
    const auto out = dir_ / "out";
    std::filesystem::create_directories(out);
    // A live holder: a child that takes the lock, says so and waits to be killed.
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t holder = ::fork();
    if (holder == 0) {
        char acquired = 0;
        try {
            OutputLock lock(out);
            acquired = 1;
            (void)!::write(ready[1], &acquired, 1);
            for (;;) ::pause();
        } catch (...) {
            (void)!::write(ready[1], &acquired, 1);
            ::_exit(1);
        }
    }
    ASSERT_GT(holder, 0);
    struct KilledAtTheEnd {
        pid_t pid;
        int pipe_ends[2];
        ~KilledAtTheEnd() {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            ::close(pipe_ends[0]);
            ::close(pipe_ends[1]);
        }
    } const killed_at_the_end{holder, {ready[0], ready[1]}};
    char acquired = 0;
    ASSERT_EQ(::read(ready[0], &acquired, 1), 1);
    ASSERT_EQ(acquired, 1) << "the holder could not take the lock";

    const auto refused = convert(out);
    EXPECT_EQ(refused.exit_code, 1) << refused.output;
    EXPECT_NE(refused.output.find("pid " + std::to_string(holder)), std::string::npos)
        << refused.output;
    EXPECT_FALSE(std::filesystem::exists(out / "train"));
}

TEST_F(ConvertCommand, TooManyRejectedInputsFailEarly) {
    for (const auto& entry :
         std::filesystem::directory_iterator(corpus() / "train" / "n01440764")) {
        std::ofstream(entry.path(), std::ios::trunc) << "not an image";
    }
    const auto failed = convert(dir_ / "out", {"--max-reject-fraction", "0.1"});
    EXPECT_EQ(failed.exit_code, 1) << failed.output;
    EXPECT_NE(failed.output.find("--max-reject-fraction"), std::string::npos) << failed.output;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "manifest.json"));
}

TEST_F(ConvertCommand, BadOptionValuesAreUsageErrorsAndWriteNothing) {
    EXPECT_EQ(convert(dir_ / "a", {"--shard-size", "0"}).exit_code, 2);
    EXPECT_EQ(convert(dir_ / "b", {"--resize", "diagonal:3"}).exit_code, 2);
    EXPECT_EQ(convert(dir_ / "c", {"--max-reject-fraction", "2"}).exit_code, 2);
    EXPECT_EQ(convert(dir_ / "d", {"--encoding", "raw"}).exit_code, 2);  // raw needs a fixed size
    for (const char* name : {"a", "b", "c", "d"})
        EXPECT_FALSE(std::filesystem::exists(dir_ / name)) << name;
}

}  // namespace
}  // namespace synshard::convert
