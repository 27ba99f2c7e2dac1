// Job files as a careful user writes them (issue 21): a misspelt section, a syntax error,
// a nested config or a folder for --config is an error naming the file and line (exit 2,
// nothing written); quoted values are unquoted; every job file in jobs/ parses.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "synshard/cli/command.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/util/error.hpp"

namespace synshard::cli {
namespace {

namespace fs = std::filesystem;
using testing::run_synshard;

// Exit 2, the message names `where`, and OUT is not created.
void expect_refused(const std::string& job_text, const std::string& where,
                    const std::string& mention) {
    testing::TempDir dir;
    fs::create_directory(dir / "train");
    const fs::path job = dir / "job.ini";
    std::string text = std::regex_replace(job_text, std::regex("TRAIN"), (dir / "train").string());
    text = std::regex_replace(text, std::regex("OUT"), (dir / "out").string());
    std::ofstream(job) << text;
    const auto result = run_synshard({"convert", "--config", job.string()});
    EXPECT_EQ(result.exit_code, 2) << text << result.output;
    EXPECT_NE(result.output.find(job.string() + ":" + where), std::string::npos)
        << text << "the message does not name " << where << ":\n"
        << result.output;
    EXPECT_NE(result.output.find(mention), std::string::npos) << text << result.output;
    EXPECT_FALSE(fs::exists(dir / "out")) << text;
}

TEST(JobFile, AnUnknownSectionIsAnErrorNamingFileAndLine) {
    expect_refused("# a job\n[covnert]\ninput = TRAIN\noutput = OUT\n", "2", "[covnert]");
    expect_refused("[Convert]\ninput = TRAIN\noutput = OUT\n", "1", "[convert]");
}

TEST(JobFile, SyntaxErrorsNameFileAndLine) {
    expect_refused("[convert\ninput = TRAIN\noutput = OUT\n", "1", "[convert");
    expect_refused("[convert]\ninput = TRAIN\noutput = OUT\nshard size 4\n", "4", "shard size 4");
    expect_refused("[convert]\ninput = TRAIN\noutput = \"OUT\n", "3", "quote");
    expect_refused("[convert]\ninput = TRAIN\noutput = 'OUT\"\n", "3", "quote");
    expect_refused("input = TRAIN\n[convert]\noutput = OUT\n", "1", "input");
    expect_refused("[convert]\ninput = TRAIN\noutput = OUT\nsharde-size = 4\n", "4", "sharde-size");
    expect_refused("[convert]\ninput = TRAIN\noutput = OUT\nshard-size = many\n", "4", "many");
    expect_refused("[convert]\ninput = TRAIN\noutput = OUT\nseed = 1\nseed = 2\n", "5", "seed");
}

TEST(JobFile, ANestedConfigIsAnError) {
    expect_refused("[convert]\ninput = TRAIN\noutput = OUT\nconfig = other.ini\n", "4", "config");
}

TEST(JobFile, AFolderForConfigIsAnError) {
    testing::TempDir dir;
    fs::create_directory(dir / "train");
    const auto result =
        run_synshard({"convert", "--config", dir.path().string(), "--input",
                      (dir / "train").string(), "--output", (dir / "out").string()});
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_NE(result.output.find(dir.path().string() + " is a folder"), std::string::npos)
        << result.output;
    EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(JobFile, QuotedValuesAreUnquoted) {
    testing::TempDir dir;
    const fs::path job = dir / "job.ini";
    std::ofstream(job) << "[convert]\ninput = 'in 1'\noutput = \"out 11\"  # a comment\n"
                          "boxes = \"a # b\"\nbackground = #102030\nseed = '7'\n"
                          "[verify]\nfull = true\n[synth]\nquirks = false\n";
    const auto values = parse_command_line(convert_command(), {"--config", job.string()});
    EXPECT_EQ(values["input"].as<std::string>(), "in 1");
    EXPECT_EQ(values["output"].as<std::string>(), "out 11");
    EXPECT_EQ(values["boxes"].as<std::vector<std::string>>(), std::vector<std::string>{"a # b"});
    EXPECT_EQ(values["background"].as<std::string>(), "#102030");
    EXPECT_EQ(values["seed"].as<std::uint64_t>(), 7u);
    EXPECT_TRUE(
        parse_command_line(verify_command(), {"--config", job.string(), "OUT"})["full"].as<bool>());
    EXPECT_FALSE(
        parse_command_line(synth_command(), {"--config", job.string(), "--output", "x"})["quirks"]
            .as<bool>());
}

// A job file names a boolean `name = true/false`; on the command line it is a switch.
TEST(JobFile, BooleansAreTrueOrFalseInJobFiles) {
    testing::TempDir dir;
    const fs::path job = dir / "job.ini";
    std::ofstream(job) << "[convert]\ninput = in\noutput = out\nresume = false\nquiet = true\n";
    const auto values = parse_command_line(convert_command(), {"--config", job.string()});
    EXPECT_FALSE(values["resume"].as<bool>());
    EXPECT_TRUE(values["quiet"].as<bool>());
    // The command line's --no-resume is no job file key.
    std::ofstream(job) << "[convert]\ninput = in\noutput = out\nno-resume = true\n";
    EXPECT_THROW(parse_command_line(convert_command(), {"--config", job.string()}), UsageError);
    // The command line wins.
    std::ofstream(job) << "[convert]\ninput = in\noutput = out\nresume = true\n";
    EXPECT_FALSE(
        parse_command_line(convert_command(), {"--config", job.string(), "--no-resume"})["resume"]
            .as<bool>());
}

// Each section of each jobs/*.ini parses for its command (verify's OUT given as the job's
// comments say), and plan reads [convert].
TEST(JobFile, EveryJobFileInTheRepositoryParses) {
    const fs::path jobs = testing::test_data_dir().parent_path().parent_path() / "jobs";
    int parsed = 0;
    for (const auto& entry : fs::directory_iterator(jobs)) {
        if (entry.path().extension() != ".ini") continue;
        const std::string text = testing::read_text(entry.path());
        for (const auto& command : commands()) {
            // plan reads what it shares with convert from [convert].
            const std::string section = command.name == "plan" ? "convert" : command.name;
            if (text.find("[" + section + "]") == std::string::npos) continue;
            std::vector<std::string> args{"--config", entry.path().string()};
            if (command.name == "verify") args.push_back("OUT");
            try {
                parse_command_line(command, args);
                ++parsed;
            } catch (const UsageError& error) {
                ADD_FAILURE() << entry.path() << " [" << command.name << "]: " << error.what();
            }
        }
    }
    EXPECT_EQ(parsed, 12);  // 5 [convert] (and plan of each), [verify], [synth]
}

}  // namespace
}  // namespace synshard::cli
