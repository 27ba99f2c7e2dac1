// Every numeric option of every command has a documented range, checked while the command
// line is parsed: a value outside it is a usage error (exit 2) that names the option, the
// value and the range, before anything is written. Boost alone would wrap "-1" on an
// unsigned option to 2^64 - 1 (issue 14, item 7).

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "synshard/cli/command.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/util/option_values.hpp"

namespace synshard::cli {
namespace {

namespace fs = std::filesystem;
using testing::run_synshard;

// A tiny synth corpus and its conversion, shared by the suite's tests (verify and show
// need an output to point at).
class NumericOptions : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        shared_ = std::make_unique<testing::TempDir>();
        const auto synth =
            run_synshard({"synth", "--output", corpus().string(), "--num-classes", "2",
                          "--per-class", "4", "--val-per-class", "1", "--image-size", "48x48"});
        ASSERT_EQ(synth.exit_code, 0) << synth.output;
        const auto convert = run_synshard(
            {"convert", "--input", train().string(), "--output", converted().string(), "--quiet"});
        ASSERT_EQ(convert.exit_code, 0) << convert.output;
    }
    static void TearDownTestSuite() { shared_.reset(); }

    static fs::path corpus() { return shared_->path() / "corpus"; }
    static fs::path train() { return corpus() / "train"; }
    static fs::path converted() { return shared_->path() / "converted"; }

    // A new empty folder for each command line, so that nothing an earlier one wrote
    // is taken for what this one must not write.
    fs::path fresh_dir() {
        const fs::path dir = scratch_ / ("case-" + std::to_string(++cases_));
        fs::create_directory(dir);
        return dir;
    }

  private:
    testing::TempDir scratch_;
    int cases_ = 0;
    static inline std::unique_ptr<testing::TempDir> shared_;
};

// A command line that runs (and writes `written`) unless its numeric option is refused.
struct Invocation {
    std::vector<std::string> args;
    fs::path written;
};

Invocation convert_with(const fs::path& input, const fs::path& dir,
                        std::vector<std::string> option) {
    const fs::path out = dir / "out";
    std::vector<std::string> args{"convert",  "--input",    input.string(),
                                  "--output", out.string(), "--quiet"};
    args.insert(args.end(), option.begin(), option.end());
    return {args, out};
}

Invocation plan_with(const fs::path& input, const fs::path& dir, std::vector<std::string> option) {
    const fs::path json = dir / "plan.json";
    std::vector<std::string> args{"plan", "--input", input.string(), "--json", json.string()};
    args.insert(args.end(), option.begin(), option.end());
    return {args, json};
}

Invocation verify_with(const fs::path& output, const fs::path& dir,
                       std::vector<std::string> option) {
    const fs::path json = dir / "verify.json";
    std::vector<std::string> args{"verify", output.string(), "--json", json.string()};
    args.insert(args.end(), option.begin(), option.end());
    return {args, json};
}

// args, each default the case does not set itself, then the case's own options.
std::vector<std::string> with_defaults(
    std::vector<std::string> args, const std::vector<std::pair<std::string, std::string>>& defaults,
    const std::vector<std::string>& option) {
    for (const auto& [name, value] : defaults) {
        if (std::find(option.begin(), option.end(), name) == option.end())
            args.insert(args.end(), {name, value});
    }
    args.insert(args.end(), option.begin(), option.end());
    return args;
}

// The smallest corpus synth writes, but for the options the case sets itself.
Invocation synth_with(const fs::path& dir, std::vector<std::string> option) {
    const fs::path out = dir / "corpus";
    return {with_defaults({"synth", "--output", out.string(), "--image-size", "48x48"},
                          {{"--num-classes", "1"}, {"--per-class", "1"}, {"--val-per-class", "0"}},
                          option),
            out};
}

Invocation show_with(const fs::path& output, const fs::path& dir, std::vector<std::string> option) {
    const fs::path png = dir / "show.png";
    std::vector<std::string> args{"show", output.string(), "--out", png.string()};
    args.insert(args.end(), option.begin(), option.end());
    return {args, png};
}

// The smallest bench (4 images, 2 classes, 1 rank), but for the options the case sets.
Invocation bench_with(const fs::path& dir, std::vector<std::string> option) {
    const fs::path work = dir / "work";
    return {with_defaults({"bench", "--work-dir", work.string(), "--ranks", "1"},
                          {{"--images", "4"}, {"--classes", "2"}}, option),
            work};
}

// Exit 2, the message names `option` and every one of `mentions`, nothing written.
void expect_refused(const Invocation& invocation, const std::string& option,
                    const std::vector<std::string>& mentions = {}) {
    std::string command_line;
    for (const auto& arg : invocation.args) command_line += arg + " ";
    const auto result = run_synshard(invocation.args);
    EXPECT_EQ(result.exit_code, 2) << command_line << "\n" << result.output;
    EXPECT_NE(result.output.find(option), std::string::npos)
        << command_line << "\nthe message does not name " << option << ":\n"
        << result.output;
    for (const auto& text : mentions) {
        EXPECT_NE(result.output.find(text), std::string::npos)
            << command_line << "\nthe message does not say " << text << ":\n"
            << result.output;
    }
    EXPECT_FALSE(fs::exists(invocation.written)) << command_line << "wrote " << invocation.written;
}

TEST_F(NumericOptions, ANegativeValueOnAnUnsignedOptionIsAUsageErrorInEveryCommand) {
    for (const char* option :
         {"--seed", "--val-per-class", "--min-per-class", "--max-per-class", "--max-member-bytes",
          "--shard-size", "--train-shards", "--val-shards"}) {
        expect_refused(convert_with(train(), fresh_dir(), {std::string(option) + "=-1"}), option);
        expect_refused(plan_with(train(), fresh_dir(), {std::string(option) + "=-1"}), option);
    }
    // The value as its own word, as Boost also takes it.
    expect_refused(convert_with(train(), fresh_dir(), {"--seed", "-1"}), "--seed");
    expect_refused(verify_with(converted(), fresh_dir(), {"--sample=-1"}), "--sample");
    expect_refused(synth_with(fresh_dir(), {"--seed=-1"}), "--seed");
    expect_refused(bench_with(fresh_dir(), {"--images=-1"}), "--images");
    expect_refused(bench_with(fresh_dir(), {"--seed=-1"}), "--seed");
}

TEST_F(NumericOptions, AValueNear2To64IsAUsageErrorNotACrash) {
    for (const char* value : {"18446744073709551615", "18446744073709551616"}) {
        expect_refused(convert_with(train(), fresh_dir(), {"--shard-size", value}), "--shard-size",
                       {value, "1..2147483648"});
        expect_refused(plan_with(train(), fresh_dir(), {"--shard-size", value}), "--shard-size",
                       {value, "1..2147483648"});
    }
}

TEST_F(NumericOptions, AValueOutsideTheDocumentedRangeIsRefusedNamingOptionValueAndRange) {
    const auto convert = [this](std::string option, std::string value, std::string range) {
        expect_refused(convert_with(train(), fresh_dir(), {option, value}), option, {value, range});
    };
    convert("--shard-size", "0", "1..2147483648");
    convert("--shard-size", "2147483649", "1..2147483648");
    convert("--train-shards", "1000000", "0..999999");
    convert("--val-shards", "4294967296", "0..999999");
    convert("--max-reject-fraction", "1.5", "0..1");
    convert("--max-reject-fraction", "nan", "0..1");
    convert("--val-fraction", "1", "0..1, 1 excluded");
    convert("--max-per-class", "0", "1..1000000000");
    convert("--val-per-class", "1000000001", "0..1000000000");
    convert("--max-member-bytes", "2147483648", "1..2147483647");
    convert("--quality", "101", "1..100");
    convert("--max-side", "0", "1 or more");
    convert("--max-pixels", "0", "1 or more");
    convert("--max-input-bytes", "2147483648", "1..2147483647");
    convert("--min-side", "-1", "0 or more");

    expect_refused(plan_with(train(), fresh_dir(), {"--train-shards", "1000000"}), "--train-shards",
                   {"1000000", "0..999999"});
    expect_refused(plan_with(train(), fresh_dir(), {"--val-shards", "4294967296"}), "--val-shards",
                   {"4294967296", "0..999999"});
    expect_refused(plan_with(train(), fresh_dir(), {"--min-per-class", "1000000001"}),
                   "--min-per-class", {"1000000001", "0..1000000000"});

    expect_refused(synth_with(fresh_dir(), {"--num-classes", "449"}), "--num-classes",
                   {"449", "1..448"});
    expect_refused(synth_with(fresh_dir(), {"--per-class", "0"}), "--per-class",
                   {"0", "1..1000000"});
    expect_refused(synth_with(fresh_dir(), {"--val-per-class", "-1"}), "--val-per-class",
                   {"-1", "0..1000000"});
    expect_refused(synth_with(fresh_dir(), {"--quality", "0"}), "--quality", {"0", "1..100"});
    expect_refused(synth_with(fresh_dir(), {"--large-fraction", "-0.5"}), "--large-fraction",
                   {"-0.5", "0..1"});

    expect_refused(show_with(converted(), fresh_dir(), {"--index", "-1"}), "--index",
                   {"-1", "0 or more"});
    expect_refused(show_with(converted(), fresh_dir(), {"--contact-sheet", "1025"}),
                   "--contact-sheet", {"1025", "0..1024"});
    expect_refused(show_with(converted(), fresh_dir(), {"--tile", "15"}), "--tile",
                   {"15", "16..4096"});

    // Values Boost cannot read: one just above the range would, were it not refused,
    // generate a corpus of a million images.
    expect_refused(bench_with(fresh_dir(), {"--images", "18446744073709551616"}), "--images",
                   {"18446744073709551616", "0..1000000"});
    expect_refused(bench_with(fresh_dir(), {"--classes", "449"}), "--classes", {"449", "1..448"});
    expect_refused(bench_with(fresh_dir(), {"--large-fraction", "2"}), "--large-fraction",
                   {"2", "0..1"});
    expect_refused(bench_with(fresh_dir(), {"--images", "0", "--scale", "18446744073709551615"}),
                   "--scale", {"18446744073709551615", "100..100000000"});
}

TEST_F(NumericOptions, AJobFileValueIsCheckedLikeTheCommandLine) {
    const fs::path dir = fresh_dir();
    const fs::path job = dir / "job.ini";
    std::ofstream(job) << "[synth]\nseed = -1\n";
    const Invocation synth = synth_with(dir, {"--config", job.string()});
    expect_refused(synth, "--seed", {"job.ini"});
}

TEST_F(NumericOptions, ValuesAtTheEdgesOfTheRangesAreAccepted) {
    const Invocation synth =
        synth_with(fresh_dir(), {"--seed", "18446744073709551615", "--quality", "100",
                                 "--large-fraction", "1", "--val-per-class", "0"});
    const auto synthesized = run_synshard(synth.args);
    EXPECT_EQ(synthesized.exit_code, 0) << synthesized.output;

    const Invocation plan =
        plan_with(train(), fresh_dir(),
                  {"--seed", "18446744073709551615", "--shard-size", "2147483648",
                   "--min-per-class", "0", "--max-per-class", "1000000000", "--max-member-bytes",
                   "2147483647", "--val-fraction", "0"});
    const auto planned = run_synshard(plan.args);
    EXPECT_EQ(planned.exit_code, 0) << planned.output;
    EXPECT_NE(planned.output.find("shards: train 1, val 0"), std::string::npos) << planned.output;

    const auto verified = run_synshard({"verify", converted().string(), "--sample", "0"});
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

// False unless `option` takes a Number; then records a failure unless it is declared with
// bounded_value, its help states the range and its default lies in it.
template <typename Number>
bool takes_a_bounded(const po::option_description& option, const std::string& command) {
    const po::value_semantic* semantic = option.semantic().get();
    if (dynamic_cast<const po::typed_value<Number>*>(semantic) == nullptr) return false;
    const std::string where = command + " --" + option.long_name();
    const auto* bounded = dynamic_cast<const BoundedValue<Number>*>(semantic);
    if (bounded == nullptr) {
        ADD_FAILURE() << where << " takes a number without a range: declare it with bounded_value";
        return true;
    }
    EXPECT_NE(option.description().find(bounded->range_text()), std::string::npos)
        << where << ": the help does not state the range " << bounded->range_text() << ": "
        << option.description();
    boost::any default_value;
    if (bounded->apply_default(default_value)) {
        EXPECT_TRUE(bounded->contains(boost::any_cast<Number>(default_value)))
            << where << ": the default lies outside " << bounded->range_text();
    }
    return true;
}

TEST_F(NumericOptions, EveryNumericOptionOfEveryCommandStatesItsRangeAndItsDefaultIsInIt) {
    int numeric = 0;
    for (const auto& command : commands()) {
        po::positional_options_description positional;
        const po::options_description options = describe_command(command, positional);
        for (const auto& option : options.options()) {
            numeric += takes_a_bounded<int>(*option, command.name) ||
                       takes_a_bounded<std::int64_t>(*option, command.name) ||
                       takes_a_bounded<std::uint32_t>(*option, command.name) ||
                       takes_a_bounded<std::uint64_t>(*option, command.name) ||
                       takes_a_bounded<double>(*option, command.name);
        }
    }
    // convert 16, plan 11, verify 1, synth 6, show 3, bench 3 (its --images is a list, checked
    // above): a new numeric option counts here.
    EXPECT_EQ(numeric, 40);
}

}  // namespace
}  // namespace synshard::cli
