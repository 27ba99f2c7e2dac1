#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "support/test_support.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/util/output_lock.hpp"

namespace synshard::convert {
namespace {

using testing::run_synshard;

class ConvertCommand : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto synth = run_synshard({"synth", "--output", corpus().string(), "--num-classes",
                                         "3", "--per-class", "5", "--val-per-class", "2",
                                         "--image-size", "96x64", "--seed", "8"});
        ASSERT_EQ(synth.exit_code, 0) << synth.output;
    }

    std::filesystem::path corpus() const { return dir_ / "corpus"; }

    testing::ProcessResult convert(const std::filesystem::path& out,
                                   std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"convert",
                                      "--input",
                                      (corpus() / "train").string(),
                                      "--val-input",
                                      (corpus() / "val").string(),
                                      "--val-labels",
                                      (corpus() / "LOC_val_solution.csv").string(),
                                      "--resize",
                                      "shorter:32",
                                      "--output",
                                      out.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_synshard(args);
    }

    testing::TempDir dir_;
};

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
    std::filesystem::create_directories(dir_ / "out");
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    // A live holder: this test process.
    std::ofstream(OutputLock::lock_path(dir_ / "out")) << host << " " << ::getpid() << "\n";
    const auto refused = convert(dir_ / "out");
    EXPECT_EQ(refused.exit_code, 1) << refused.output;
    EXPECT_NE(refused.output.find("pid " + std::to_string(::getpid())), std::string::npos)
        << refused.output;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "train"));
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
