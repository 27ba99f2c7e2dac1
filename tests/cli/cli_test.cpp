#include <gtest/gtest.h>

#include <fstream>

#include "support/test_support.hpp"
#include "synshard/cli/command.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/util/error.hpp"

namespace synshard::cli {
namespace {

using testing::run_synshard;

TEST(Cli, VersionNamesEveryLibrary) {
    const auto result = run_synshard({"--version"});
    EXPECT_EQ(result.exit_code, 0);
    for (const char* name : {"synshard ", "opencv 4.", "libjpeg-turbo 2.", "hdf5 1.", "mpi "}) {
        EXPECT_NE(result.output.find(name), std::string::npos) << name << " in\n" << result.output;
    }
}

TEST(Cli, HelpListsEveryCommand) {
    const auto result = run_synshard({"--help"});
    EXPECT_EQ(result.exit_code, 0);
    for (const auto& command : commands()) {
        EXPECT_NE(result.output.find("  " + command.name + " "), std::string::npos) << command.name;
    }
}

TEST(Cli, UnknownCommandOrNoCommandIsAUsageError) {
    EXPECT_EQ(run_synshard({"frobnicate"}).exit_code, 2);
    EXPECT_EQ(run_synshard({}).exit_code, 2);
    const auto result = run_synshard({"--frobnicate"});
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_NE(result.output.find("--frobnicate"), std::string::npos) << result.output;
}

TEST(Cli, EveryCommandHasHelpAndRejectsUnknownOptions) {
    for (const auto& command : commands()) {
        const auto help = run_synshard({command.name, "--help"});
        EXPECT_EQ(help.exit_code, 0) << command.name << help.output;
        EXPECT_NE(help.output.find("Usage: synshard " + command.name), std::string::npos);
        EXPECT_NE(help.output.find("--log-level"), std::string::npos);

        const auto bad = run_synshard({command.name, "--no-such-option"});
        EXPECT_EQ(bad.exit_code, 2) << command.name << bad.output;
        EXPECT_NE(bad.output.find("--no-such-option"), std::string::npos) << bad.output;
        EXPECT_EQ(std::count(bad.output.begin(), bad.output.end(), '\n'), 1) << bad.output;
    }
}

// Open MPI gives every launcher-less process the same session directory
// (TMPDIR/ompi.HOST.UID/jf.0/1/0), which a run that ends removes under one that starts:
// two one-rank runs on a node then fail at random in MPI_Init. A TMPDIR that is a file
// makes any session directory impossible, so a run that needs one fails every time.
TEST(Cli, AOneRankRunNeedsNoMpiSessionDirectory) {
    testing::TempDir dir;
    const auto not_a_directory = dir / "tmpdir-is-a-file";
    std::ofstream(not_a_directory) << "";
    const auto corpus = dir / "corpus";
    const std::string environment = "TMPDIR=" + not_a_directory.string() + " ";
    const std::string synshard = std::string(SYNSHARD_EXECUTABLE) + " ";
    const auto synth =
        testing::run_shell(environment + synshard + "synth --output " + corpus.string() +
                           " --num-classes 2 --per-class 3 --val-per-class 1");
    ASSERT_EQ(synth.exit_code, 0) << synth.output;
    const auto convert = testing::run_shell(
        environment + synshard + "convert --input " + (corpus / "train").string() +
        " --resize fit:32x32 --quiet --output " + (dir / "out").string());
    EXPECT_EQ(convert.exit_code, 0) << convert.output;
    EXPECT_EQ(convert.output.find("session"), std::string::npos) << convert.output;
}

// A lone process has no peers: it starts without the layer for networks to other nodes,
// whose libraries probe for adapters (0.2 s of every start of synshard here), unless the
// user asks for it. LD_DEBUG lists every library the dynamic loader opens.
TEST(Cli, ALoneProcessOpensNoNetworkLayerUnlessTheUserAsksForIt) {
    const std::string version = std::string(SYNSHARD_EXECUTABLE) + " --version 2>&1";
    const auto asked = testing::run_shell("LD_DEBUG=files OMPI_MCA_pml=ob1,cm " + version);
    ASSERT_EQ(asked.exit_code, 0) << asked.output;
    if (asked.output.find("mca_pml_cm.so") == std::string::npos) {
        GTEST_SKIP() << "this Open MPI has no cm layer (mca_pml_cm.so) for a lone process to "
                        "leave out";
    }
    const auto lone = testing::run_shell("LD_DEBUG=files " + version);
    ASSERT_EQ(lone.exit_code, 0) << lone.output;
    EXPECT_NE(lone.output.find("mca_pml_ob1.so"), std::string::npos) << lone.output;
    EXPECT_EQ(lone.output.find("mca_pml_cm.so"), std::string::npos);
}

Command example_command() {
    return Command{"example",
                   "an example",
                   "",
                   [](po::options_description& options, po::positional_options_description&) {
                       options.add_options()                                          //
                           ("output", po::value<std::string>()->required(), "where")  //
                           ("size", po::value<int>()->default_value(256), "how big")  //
                           ("flag", po::value<bool>()->default_value(false)->implicit_value(true),
                            "a switch")  //
                           ("boxes", po::value<std::vector<std::string>>()->composing(),
                            "repeatable");
                   },
                   [](const po::variables_map&, const mpi::Comm&) { return ExitCode::success; },
                   /*interruptible=*/false,
                   /*shared_section=*/"",
                   /*examples=*/{}};
}

TEST(Options, JobFileSectionFillsWhatTheCommandLineLeavesOut) {
    testing::TempDir dir;
    const auto job = dir / "job.ini";
    std::ofstream(job) << "# a job\n[synth]\nunrelated = 1\n[example]\noutput = from-file\n"
                          "size = 128\nflag = true\nboxes = a\nboxes = b\n";
    const auto values =
        parse_command_line(example_command(), {"--config", job.string(), "--size", "64"});
    EXPECT_EQ(values["output"].as<std::string>(), "from-file");
    EXPECT_EQ(values["size"].as<int>(), 64);  // the command line wins
    EXPECT_TRUE(values["flag"].as<bool>());
    EXPECT_EQ(values["boxes"].as<std::vector<std::string>>(), (std::vector<std::string>{"a", "b"}));
}

TEST(Options, BadValuesUnknownKeysAndMissingRequiredOptionsAreUsageErrors) {
    testing::TempDir dir;
    const auto job = dir / "job.ini";
    std::ofstream(job) << "[example]\noutput = x\nsizee = 3\n";
    EXPECT_THROW(parse_command_line(example_command(), {"--config", job.string()}), UsageError);
    EXPECT_THROW(parse_command_line(example_command(), {"--output", "x", "--size", "big"}),
                 UsageError);
    EXPECT_THROW(parse_command_line(example_command(), {}), UsageError);
    EXPECT_THROW(parse_command_line(example_command(), {"--config", (dir / "absent.ini").string()}),
                 UsageError);
    std::ofstream(dir / "global.ini") << "output = x\n";
    EXPECT_THROW(parse_command_line(example_command(), {"--config", (dir / "global.ini").string()}),
                 UsageError);
    EXPECT_NO_THROW(parse_command_line(example_command(), {"--help"}));
}

}  // namespace
}  // namespace synshard::cli
