// What `synshard COMMAND --help` shows a user (issue 21): defaults as they are written,
// required options marked, a value name for every value (no Boost placeholders), the
// same default for the same option in every command, and two or three examples that
// parse; boolean options are switches, with --no-X for those that default to true.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "synshard/cli/command.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/util/error.hpp"

namespace synshard::cli {
namespace {

namespace fs = std::filesystem;
using testing::lines_of;
using testing::run_synshard;

// The option lines of a help text: "--name" -> what follows the name on its line.
std::map<std::string, std::string> option_lines(const std::string& help) {
    static const std::regex option(R"(^  (?:-[a-z], )?--([a-z0-9-]+)(.*)$)");
    std::map<std::string, std::string> options;
    for (const auto& line : lines_of(help)) {
        std::smatch match;
        if (std::regex_match(line, match, option)) options[match[1]] = match[2];
    }
    return options;
}

// The command lines under "Examples:".
std::vector<std::string> examples_of(const std::string& help) {
    std::vector<std::string> examples;
    bool in_examples = false;
    for (const auto& line : lines_of(help)) {
        if (line == "Examples:") {
            in_examples = true;
        } else if (in_examples &&
                   (line.starts_with("  synshard ") || line.starts_with("  mpirun "))) {
            examples.push_back(line.substr(2));
        }
    }
    return examples;
}

std::string help_of(const Command& command) {
    const auto result = run_synshard({command.name, "--help"});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.output;
}

TEST(Help, ShowsDefaultsAsWrittenMarksRequiredOptionsAndHasNoPlaceholders) {
    for (const auto& command : commands()) {
        const std::string help = help_of(command);
        EXPECT_EQ(help.find("[=arg"), std::string::npos) << command.name << ":\n" << help;
        EXPECT_FALSE(std::regex_search(help, std::regex(R"(--[a-z0-9-]+ arg\b)")))
            << command.name << ": a value without a value name:\n"
            << help;
        EXPECT_FALSE(std::regex_search(help, std::regex(R"(\(=[0-9.]*\.[0-9]{7,}\))")))
            << command.name << ": a default not as written:\n"
            << help;
        EXPECT_EQ(help.find("[ --"), std::string::npos) << command.name << ":\n" << help;
        const auto shown = option_lines(help);
        po::positional_options_description positional;
        const po::options_description described = describe_command(command, positional);
        for (const auto& option : described.options()) {
            const auto line = shown.find(option->long_name());
            ASSERT_NE(line, shown.end()) << command.name << " --" << option->long_name();
            const bool marked = line->second.find("(required)") != std::string::npos;
            EXPECT_EQ(marked, option->semantic()->is_required())
                << command.name << " --" << option->long_name() << ":" << line->second;
        }
    }
}

TEST(Help, TheSameOptionShowsTheSameValueAndDefaultInEveryCommand) {
    // Options that share a name but not a meaning: bench's corpora and seed are its own,
    // synth's --val-per-class writes val images where the corpus option takes them from
    // train.
    const std::set<std::pair<std::string, std::string>> different{
        {"bench", "classes"}, {"bench", "ranks"}, {"bench", "seed"}, {"synth", "val-per-class"}};
    std::map<std::string, std::pair<std::string, std::string>> first;  // name -> command, text
    for (const auto& command : commands()) {
        for (auto [name, text] : option_lines(help_of(command))) {
            if (name == "output" || different.count({command.name, name}) != 0) continue;
            // The value and default, not the description; an operand is required in one
            // command (locate KEY...) and not in another (show --key).
            text = std::regex_replace(text.substr(0, text.find("  ")),
                                      std::regex(" \\(required\\)"), "");
            const auto [seen, added] = first.emplace(name, std::pair{command.name, text});
            EXPECT_TRUE(added || seen->second.second == text)
                << "--" << name << ": '" << seen->second.second << "' in " << seen->second.first
                << ", '" << text << "' in " << command.name;
        }
    }
}

// The repository's top: the examples name its job files.
fs::path source_dir() {
    return testing::test_data_dir().parent_path().parent_path();
}

TEST(Help, EveryCommandEndsWithTwoOrThreeExamplesThatParse) {
    const fs::path here = fs::current_path();
    for (const auto& command : commands()) {
        const std::string help = help_of(command);
        const auto examples = examples_of(help);
        EXPECT_GE(examples.size(), 2u) << command.name << ":\n" << help;
        EXPECT_LE(examples.size(), 3u) << command.name << ":\n" << help;
        fs::current_path(source_dir());
        for (const auto& example : examples) {
            std::istringstream words(example);
            std::vector<std::string> args;
            for (std::string word; words >> word;) args.push_back(word);
            if (args.front() == "mpirun") args.erase(args.begin(), args.begin() + 3);
            ASSERT_GE(args.size(), 2u) << example;
            EXPECT_EQ(args[0], "synshard") << example;
            EXPECT_EQ(args[1], command.name) << example;
            try {
                parse_command_line(command, {args.begin() + 2, args.end()});
            } catch (const UsageError& error) {
                ADD_FAILURE() << example << ": " << error.what();
            }
        }
        fs::current_path(here);
    }
}

TEST(Help, BooleanOptionsAreSwitchesWithANoFormWhenTheyDefaultToTrue) {
    const auto convert = [](std::vector<std::string> more) {
        std::vector<std::string> args{"--input", "in", "--output", "out"};
        args.insert(args.end(), more.begin(), more.end());
        return parse_command_line(convert_command(), args);
    };
    EXPECT_TRUE(convert({})["resume"].as<bool>());
    EXPECT_FALSE(convert({"--no-resume"})["resume"].as<bool>());
    EXPECT_TRUE(convert({"--restart", "--quiet", "--drop-leaks"})["restart"].as<bool>());
    // A switch takes no value: what follows it is the next operand or option.
    EXPECT_THROW(convert({"--quiet=false"}), UsageError);
    const auto verify = parse_command_line(verify_command(), {"--full", "OUT"});
    EXPECT_TRUE(verify["full"].as<bool>());
    EXPECT_EQ(verify["output"].as<std::string>(), "OUT");

    const std::string help = help_of(convert_command());
    const auto shown = option_lines(help);
    EXPECT_EQ(shown.count("no-resume"), 1u) << help;
    EXPECT_EQ(shown.at("quiet").find("(="), std::string::npos) << help;
}

// A tiny conversion to verify.
TEST(Help, VerifyFullBeforeTheOperandVerifiesIt) {
    testing::TempDir dir;
    const auto synth =
        run_synshard({"synth", "--output", (dir / "corpus").string(), "--num-classes", "2",
                      "--per-class", "3", "--val-per-class", "1", "--image-size", "48x48"});
    ASSERT_EQ(synth.exit_code, 0) << synth.output;
    const auto convert = run_synshard({"convert", "--input", (dir / "corpus/train").string(),
                                       "--output", (dir / "out").string(), "--quiet"});
    ASSERT_EQ(convert.exit_code, 0) << convert.output;
    const auto verify = run_synshard({"verify", "--full", (dir / "out").string()});
    EXPECT_EQ(verify.exit_code, 0) << verify.output;
    EXPECT_NE(verify.output.find("decoded"), std::string::npos) << verify.output;
}

}  // namespace
}  // namespace synshard::cli
