// Numbers in messages as a careful user writes them (issue 21): "1 class" and "1 shard",
// never "1 classes" or "shard(s)".

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "support/test_support.hpp"

namespace synshard::testing {
namespace {

namespace fs = std::filesystem;

TEST(CliWording, AConvertOfOneClassSaysOneClassAndOneShard) {
    TempDir dir;
    const auto synth = run_synshard({"synth", "--output", (dir / "corpus").string(),
                                     "--num-classes", "1", "--per-class", "6", "--val-per-class",
                                     "0", "--image-size", "32x32", "--seed", "3"});
    ASSERT_EQ(synth.exit_code, 0) << synth.output;
    const auto convert = run_synshard({"convert", "--input", (dir / "corpus/train").string(),
                                       "--output", (dir / "out").string(), "--shard-size", "100"});
    ASSERT_EQ(convert.exit_code, 0) << convert.output;
    for (const char* said : {"plan: 1 class,", " into 1 shard ", "0 duplicate groups"})
        EXPECT_NE(convert.output.find(said), std::string::npos) << said << " in\n"
                                                                << convert.output;
    for (const char* unsaid : {"1 classes", "1 shards", "(s)"})
        EXPECT_EQ(convert.output.find(unsaid), std::string::npos) << unsaid << " in\n"
                                                                  << convert.output;
}

// Every string literal in the sources, comments aside: a "(s)" or "(es)" in one is a
// message, a help text or an error that counts things the lazy way.
TEST(CliWording, NoStringLiteralInTheSourcesCountsTheLazyWay) {
    const fs::path sources = test_data_dir().parent_path().parent_path() / "src";
    ASSERT_TRUE(fs::is_directory(sources)) << sources;
    const std::regex literal(R"("(?:[^"\\]|\\.)*")");
    std::size_t files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(sources)) {
        const auto extension = entry.path().extension();
        if (extension != ".cpp" && extension != ".hpp") continue;
        ++files;
        std::ifstream in(entry.path());
        std::string line;
        for (int number = 1; std::getline(in, line); ++number) {
            const std::string code = line.substr(0, line.find("//"));
            for (std::sregex_iterator match(code.begin(), code.end(), literal), end; match != end;
                 ++match) {
                for (const char* lazy : {"(s)", "(es)"})
                    EXPECT_EQ(match->str().find(lazy), std::string::npos)
                        << entry.path().string() << ":" << number << ": " << line;
            }
        }
    }
    EXPECT_GT(files, 100u);
}

}  // namespace
}  // namespace synshard::testing
