// Logs as a batch job keeps them: `mpirun ... > log` from a terminal (TERM set) must give
// plain lines, --progress bar forces the bar, --log-format json gives one object a line.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "convert/convert_fixture.hpp"
#include "synshard/bench/child.hpp"

namespace synshard::testing {
namespace {

std::string shell_quoted(const std::string& word) {
    std::string quoted = "'";
    for (const char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

class Logs : public ConvertFixture {
  protected:
    // A 2-rank convert under mpirun started as from a terminal emulator (TERM=xterm)
    // with mpirun's standard output and error going to a file (through_terminal: to a
    // pseudo-terminal that script(1) copies to the file); the file's text.
    std::string convert_to_log(const std::string& name, const std::vector<std::string>& extra,
                               bool through_terminal = false) {
        std::vector<std::string> args{"convert"};
        for (const auto& option : input_options()) args.push_back(option);
        args.insert(args.end(), {"--resize", "shorter:32", "--output", (dir_ / name).string()});
        args.insert(args.end(), extra.begin(), extra.end());
        std::string mpirun;
        for (const auto& word :
             bench::mpi_command(bench::find_mpi_launcher(), 2, SYNSHARD_EXECUTABLE, args))
            mpirun += (mpirun.empty() ? "" : " ") + shell_quoted(word);
        std::string command = "TERM=xterm ";
        command += through_terminal ? "script -qec " + shell_quoted(mpirun) + " /dev/null" : mpirun;
        const auto log = dir_ / (name + ".log");
        command += " >" + shell_quoted(log.string()) + " 2>&1";
        const auto result = run_shell(command);
        const std::string text = read_text(log);
        EXPECT_EQ(result.exit_code, 0) << text;
        return text;
    }
};

bool has_control_codes(const std::string& text) {
    return text.find('\r') != std::string::npos || text.find("\033[") != std::string::npos;
}

TEST_F(Logs, UnderMpirunWithOutputToAFileTheProgressIsPlainLines) {
    const std::string log = convert_to_log("out", {});
    EXPECT_FALSE(has_control_codes(log)) << log;
    EXPECT_NE(log.find("synshard: write "), std::string::npos) << log;
}

TEST_F(Logs, UnderMpirunOnATerminalTheProgressIsABar) {
    if (run_shell("command -v script").exit_code != 0)
        GTEST_SKIP() << "script(1) is missing: it gives mpirun the terminal this test "
                        "needs (util-linux; bash cluster/install-deps.sh installs it)";
    const std::string log = convert_to_log("terminal", {}, true);
    EXPECT_NE(log.find("\r\033[Kwrite "), std::string::npos) << log;
}

TEST_F(Logs, ProgressBarForcesTheBarAndNoneSilencesIt) {
    const std::string bar = convert_to_log("bar", {"--progress", "bar"});
    EXPECT_NE(bar.find("\r\033[Kwrite "), std::string::npos) << bar;
    const std::string none = convert_to_log("none", {"--progress", "none"});
    EXPECT_FALSE(has_control_codes(none)) << none;
    EXPECT_EQ(none.find("write "), std::string::npos) << none;
}

TEST_F(Logs, JsonLogIsOneObjectPerLineNamingTimeRankLevelPhaseAndCounters) {
    const std::string log = convert_to_log("json", {"--log-format", "json"});
    std::istringstream lines(log);
    std::string line;
    std::size_t parsed = 0;
    bool write_progress = false;
    while (std::getline(lines, line)) {
        nlohmann::json object;
        ASSERT_NO_THROW(object = nlohmann::json::parse(line)) << "not JSON: " << line;
        for (const char* field : {"time", "rank", "level", "phase", "message", "counters"})
            EXPECT_TRUE(object.contains(field)) << field << " missing in " << line;
        EXPECT_TRUE(object["counters"].is_object()) << line;
        EXPECT_EQ(object["time"].get<std::string>().size(), 24U) << line;
        if (object["phase"] == "write" && object["counters"].contains("done")) {
            write_progress = true;
            EXPECT_EQ(object["counters"]["done"], object["counters"]["total"]) << line;
            EXPECT_EQ(object["counters"]["total"], 19) << line;
        }
        ++parsed;
    }
    EXPECT_GT(parsed, 3U) << log;
    EXPECT_TRUE(write_progress) << "no final progress line of the write phase in\n" << log;
}

TEST_F(Logs, AResumeCountsOnlyTheWorkLeftAndNamesWhatWasReused) {
    convert_to_log("resumed", {});
    // A run that stopped while writing manifest.json: every shard is kept by the rerun.
    std::filesystem::remove(dir_ / "resumed" / "manifest.json");
    const std::string log = convert_to_log("resumed", {"--progress", "lines"});
    // Before: "write 19/19 (100.0%) 803212.9 img/s ETA 0 s".
    EXPECT_NE(log.find("synshard: write 0/0 (100%) in "), std::string::npos) << log;
    EXPECT_NE(log.find(", 19 reused from an earlier run\n"), std::string::npos) << log;
    EXPECT_EQ(log.find("write 19/19"), std::string::npos) << log;
}

TEST_F(Logs, AnUnknownLogFormatOrProgressModeIsAUsageErrorNamingTheValidOnes) {
    const auto format = convert(dir_ / "x", {"--log-format", "xml"});
    EXPECT_EQ(format.exit_code, 2) << format.output;
    EXPECT_NE(format.output.find("--log-format must be text or json, not 'xml'"), std::string::npos)
        << format.output;
    const auto progress = convert(dir_ / "y", {"--progress", "fancy"});
    EXPECT_EQ(progress.exit_code, 2) << progress.output;
    EXPECT_NE(progress.output.find("--progress must be bar, lines or none, not 'fancy'"),
              std::string::npos)
        << progress.output;
}

}  // namespace
}  // namespace synshard::testing
