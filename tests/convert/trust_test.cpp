// Issue 14 ("Trust I"): synshard deletes or overwrites only what it wrote, and its exit
// code never claims more than happened. Each test runs the real binary on a real corpus.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "convert/convert_fixture.hpp"
#include "synshard/manifest/manifest.hpp"

namespace synshard::convert {
namespace {

namespace fs = std::filesystem;
using testing::run_synshard;

void write_text(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

using testing::read_text;

std::size_t count_files(const fs::path& root) {
    std::size_t count = 0;
    for (const auto& entry : fs::recursive_directory_iterator(root))
        count += entry.is_regular_file();
    return count;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// The images of one train class made undecodable, a quarter of the inputs or more.
void break_first_class(const fs::path& corpus) {
    for (const auto& entry : fs::directory_iterator(corpus / "train" / "n01440764")) {
        std::ofstream(entry.path(), std::ios::trunc) << "not an image";
    }
}

class OutputOwnership : public testing::ConvertFixture {};

TEST_F(OutputOwnership, RestartWithTheCorpusInsideTheOutputDeletesNothingAndIsAUsageError) {
    const auto before = count_files(corpus());
    const auto result = run_synshard({"convert", "--input", (corpus() / "train").string(),
                                      "--val-input", (corpus() / "val").string(), "--val-labels",
                                      (corpus() / "LOC_val_solution.csv").string(), "--output",
                                      corpus().string(), "--restart"});
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_TRUE(contains(result.output, "--input")) << result.output;
    EXPECT_EQ(count_files(corpus()), before);
}

TEST_F(OutputOwnership, RestartRemovesNothingWhenTheOutputHoldsAFileSynshardDidNotWrite) {
    const auto out = dir_ / "out";
    write_text(out / "train" / "mine.txt", "mine");
    write_text(out / "val" / "thesis.tex", "\\documentclass{article}");
    const auto result = convert(out, {"--restart"});
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_TRUE(contains(result.output, "mine.txt")) << result.output;
    EXPECT_TRUE(read_text(out / "train" / "mine.txt") == "mine");
    EXPECT_TRUE(fs::exists(out / "val" / "thesis.tex"));
    EXPECT_EQ(count_files(out), 2u) << "nothing may be added either";
}

TEST_F(OutputOwnership, AnOutputHoldingFilesSynshardDidNotWriteIsRefusedUntouched) {
    const auto out = dir_ / "out";
    write_text(out / "index.h5", "my own index");
    write_text(out / "draft.tmp", "half a thesis");
    const auto result = convert(out);
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_TRUE(contains(result.output, "synshard did not write")) << result.output;
    EXPECT_TRUE(read_text(out / "index.h5") == "my own index")
        << "the user's index.h5 was overwritten";
    EXPECT_TRUE(read_text(out / "draft.tmp") == "half a thesis");
    EXPECT_EQ(count_files(out), 2u) << "no journal, lock or shard may be written";
    EXPECT_FALSE(fs::exists(out / "train"));
}

TEST_F(OutputOwnership, LeftoversOfAKilledRunAreOursAndAreAcceptedAndCleared) {
    const auto out = dir_ / "out";
    write_text(out / ".synshard.lock", "some-other-host 4242 2026-01-01T00:00:00Z\n");
    write_text(out / ".scratch" / "synshard-0123456789abcdef" / "n01440764" / "0-5.spool", "xx");
    write_text(out / "train" / "train-00000-of-00009.h5.tmp", "half a shard");
    write_text(out / "train" / "train-00003-of-00009.h5", "a shard never journaled");
    const auto result = convert(out);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_TRUE(fs::exists(out / "manifest.json"));
    EXPECT_FALSE(fs::exists(out / "train" / "train-00000-of-00009.h5.tmp"));
    EXPECT_FALSE(fs::exists(out / "train" / "train-00003-of-00009.h5"))
        << "a shard of another assignment would be a stray file next to the new ones";

    const auto restarted = convert(out, {"--restart"});
    EXPECT_EQ(restarted.exit_code, 0) << restarted.output;
    EXPECT_TRUE(fs::exists(out / "manifest.json"));
}

TEST_F(OutputOwnership, AnOutputOrScratchOverlappingAnInputIsAUsageErrorThatWritesNothing) {
    const auto before = count_files(corpus());
    fs::create_directory_symlink(corpus() / "train", dir_ / "link-to-train");
    const std::vector<std::pair<fs::path, std::vector<std::string>>> cases{
        {corpus() / "train" / "shards", {}},                         // OUT inside --input
        {corpus(), {}},                                              // OUT holds the inputs
        {dir_ / "link-to-train", {}},                                // OUT is --input
        {dir_ / "out", {"--scratch", (corpus() / "val").string()}},  // scratch is --val-input
    };
    for (const auto& [out, extra] : cases) {
        const auto result = convert(out, extra);
        EXPECT_EQ(result.exit_code, 2) << out << "\n" << result.output;
        EXPECT_EQ(count_files(corpus()), before) << out;
    }
    EXPECT_FALSE(fs::exists(dir_ / "out"));
}

class FinishedOutput : public testing::ConvertFixture {};

TEST_F(FinishedOutput, AnExpectManifestMismatchFailsTheRunAndEveryRerunWithTheSameList) {
    ASSERT_EQ(convert(dir_ / "first").exit_code, 0);
    auto tampered = manifest::read_manifest(dir_ / "first" / "manifest.json");
    auto& shard = tampered.splits.at("train").shards.at(0);
    shard.sha256 = std::string(64, '0');
    manifest::write_manifest(dir_ / "tampered.json", tampered);
    const std::vector<std::string> expect{"--expect-manifest", (dir_ / "tampered.json").string()};
    const std::string difference = shard.path + ": expected " + std::string(64, '0');

    const auto first = convert(dir_ / "second", expect);
    EXPECT_EQ(first.exit_code, 1) << first.output;
    EXPECT_TRUE(contains(first.output, difference)) << first.output;
    EXPECT_TRUE(fs::exists(dir_ / "second" / "manifest.json")) << "the output is still published";
    for (const auto& rerun_options : {expect, std::vector<std::string>{}}) {
        const auto rerun = convert(dir_ / "second", rerun_options);
        EXPECT_EQ(rerun.exit_code, 1) << rerun.output;
        EXPECT_TRUE(contains(rerun.output, difference)) << rerun.output;
    }
}

TEST_F(FinishedOutput, AnExpectManifestThatIsNotASynshardManifestIsAUsageError) {
    write_text(dir_ / "bogus.json", "{\"hello\": 1}\n");
    const auto result =
        convert(dir_ / "out", {"--expect-manifest", (dir_ / "bogus.json").string()});
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_F(FinishedOutput, ARerunWithOtherOptionsIsRefusedNamingTheOptionAndOfferingRestart) {
    const auto out = dir_ / "out";
    ASSERT_EQ(convert(out).exit_code, 0);
    const auto before = read_text(out / "manifest.json");
    const auto changed = convert(out, {"--quality", "10"});
    EXPECT_EQ(changed.exit_code, 1) << changed.output;
    EXPECT_TRUE(contains(changed.output, "--quality")) << changed.output;
    EXPECT_TRUE(contains(changed.output, "--restart")) << changed.output;
    EXPECT_TRUE(read_text(out / "manifest.json") == before);

    const auto same = convert(out);
    EXPECT_EQ(same.exit_code, 0) << same.output;
    EXPECT_TRUE(contains(same.output, "already complete")) << same.output;
}

TEST_F(FinishedOutput, ARerunOnChangedInputsIsRefusedNamingTheChange) {
    const auto out = dir_ / "out";
    ASSERT_EQ(convert(out).exit_code, 0);
    const auto folder = corpus() / "train" / "n01440764";
    const auto first = fs::directory_iterator(folder)->path();
    fs::copy_file(first, folder / "n01440764_copy.JPEG");
    const auto changed = convert(out);
    EXPECT_EQ(changed.exit_code, 1) << changed.output;
    EXPECT_TRUE(contains(changed.output, "inputs changed")) << changed.output;
    EXPECT_TRUE(contains(changed.output, "--restart")) << changed.output;
}

class EarlyChecks : public testing::ConvertFixture {};

TEST_F(EarlyChecks, MoreShardsThanPlannedImagesIsAUsageErrorThatWritesNothing) {
    for (const auto& option : {"--train-shards", "--val-shards"}) {
        const auto result = convert(dir_ / "out", {option, "50"});
        EXPECT_EQ(result.exit_code, 2) << result.output;
        EXPECT_TRUE(contains(result.output, option)) << result.output;
        EXPECT_FALSE(fs::exists(dir_ / "out")) << option;
    }
}

TEST_F(EarlyChecks, AnInputThatIsAFileIsAUsageErrorThatWritesNothing) {
    const std::string csv = (corpus() / "LOC_val_solution.csv").string();
    for (const auto& inputs :
         {std::vector<std::string>{"--input", csv},
          std::vector<std::string>{"--input", (corpus() / "train").string(), "--val-input", csv}}) {
        std::vector<std::string> args{"convert", "--output", (dir_ / "out").string()};
        args.insert(args.end(), inputs.begin(), inputs.end());
        const auto result = run_synshard(args);
        EXPECT_EQ(result.exit_code, 2) << result.output;
        EXPECT_TRUE(contains(result.output, csv + " is neither a folder nor a tar"))
            << result.output;
        EXPECT_FALSE(fs::exists(dir_ / "out"));
    }
}

TEST_F(EarlyChecks, WriteOptionsMayChangeWhenAFailedRunIsResumed) {
    break_first_class(corpus());
    const auto out = dir_ / "out";
    const auto failed = convert(out, {"--max-reject-fraction", "0.1"});
    ASSERT_EQ(failed.exit_code, 1) << failed.output;

    const std::vector<std::string> fixed{"--max-reject-fraction", "0.5", "--shard-size", "4"};
    const auto resumed = convert(out, fixed);
    EXPECT_EQ(resumed.exit_code, 3) << resumed.output;
    EXPECT_TRUE(contains(resumed.output, "resuming")) << resumed.output;
    const auto fresh = convert(dir_ / "fresh", fixed);
    ASSERT_EQ(fresh.exit_code, 3) << fresh.output;
    const auto differences =
        manifest::compare_shards(manifest::read_manifest(dir_ / "fresh" / "manifest.json"),
                                 manifest::read_manifest(out / "manifest.json"));
    EXPECT_TRUE(differences.empty()) << manifest::describe(differences.front());
    EXPECT_FALSE(fs::exists(out / "rejected.json")) << "the failed run's list is gone";
}

TEST_F(EarlyChecks, TooFewSurvivorsForTheShardCountFailsAfterProcessingAndKeepsTheSpools) {
    std::ofstream(corpus() / "val" / "ILSVRC2012_val_00000001.JPEG", std::ios::trunc) << "broken";
    const auto out = dir_ / "out";
    const auto failed = convert(out, {"--val-shards", "6", "--max-reject-fraction", "0.5"});
    EXPECT_EQ(failed.exit_code, 1) << failed.output;
    EXPECT_TRUE(contains(failed.output, "asked for 6 shards")) << failed.output;
    EXPECT_FALSE(fs::exists(out / "manifest.json"));
    std::size_t outcome_files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(out / ".scratch"))
        outcome_files += entry.path().extension() == ".done";
    EXPECT_GT(outcome_files, 0u) << "the processed images are kept for the corrected rerun";

    const auto fixed = convert(out, {"--val-shards", "5", "--max-reject-fraction", "0.5"});
    EXPECT_EQ(fixed.exit_code, 3) << fixed.output;
    EXPECT_TRUE(contains(fixed.output, "resuming")) << fixed.output;
}

TEST_F(EarlyChecks, TheOutputIsTheSameWhateverItsSpelling) {
    break_first_class(corpus());
    const auto failed = convert(dir_ / "out", {"--max-reject-fraction", "0.1"});
    ASSERT_EQ(failed.exit_code, 1) << failed.output;
    const auto resumed =
        convert(dir_.path().string() + "/./out/", {"--max-reject-fraction", "0.5"});
    EXPECT_EQ(resumed.exit_code, 3) << resumed.output;
    EXPECT_TRUE(contains(resumed.output, "resuming")) << resumed.output;
    EXPECT_FALSE(contains(resumed.output, "changed")) << resumed.output;
}

TEST_F(EarlyChecks, ATornOutcomeListIsNamedAndNeverSizesAnAllocation) {
    // The last class broken: the pieces before it complete and leave outcome lists.
    std::vector<fs::path> classes;
    for (const auto& entry : fs::directory_iterator(corpus() / "train")) classes.push_back(entry);
    for (const auto& entry :
         fs::directory_iterator(*std::max_element(classes.begin(), classes.end())))
        std::ofstream(entry.path(), std::ios::trunc) << "not an image";
    const auto out = dir_ / "out";
    ASSERT_EQ(convert(out, {"--max-reject-fraction", "0.1"}).exit_code, 1);
    std::vector<fs::path> outcome_lists;
    for (const auto& entry : fs::recursive_directory_iterator(out / ".scratch"))
        if (entry.path().extension() == ".done") outcome_lists.push_back(entry.path());
    ASSERT_FALSE(outcome_lists.empty());
    // A count of 2^64 - 1 images, and nothing after it.
    std::ofstream(outcome_lists.front(), std::ios::binary | std::ios::trunc)
        << std::string(8, '\xff');
    // Named in a warning, removed, and its inputs processed again (issue 16).
    const auto rerun = convert(out, {"--max-reject-fraction", "0.5"});
    EXPECT_EQ(rerun.exit_code, 3) << rerun.output;
    EXPECT_TRUE(contains(rerun.output, outcome_lists.front().filename().string())) << rerun.output;
    EXPECT_TRUE(contains(rerun.output, "processed again")) << rerun.output;
}

class RejectFraction : public testing::ConvertFixture {
  protected:
    // The run fails, lists its rejects in OUT/rejected.json, says so, and decoded fewer
    // than all 19 inputs.
    void expect_an_early_stop(const testing::ProcessResult& result) {
        EXPECT_EQ(result.exit_code, 1) << result.output;
        EXPECT_TRUE(contains(result.output, "rejected.json")) << result.output;
        EXPECT_FALSE(contains(result.output, "synshard plan")) << result.output;
        const auto listed = nlohmann::json::parse(read_text(dir_ / "out" / "rejected.json"));
        const auto& rejected = listed.at("rejected");
        // 19 inputs at --max-reject-fraction 0.05: the first reject decides.
        EXPECT_GE(rejected.size(), 1u);
        EXPECT_LT(rejected.size(), 19u) << result.output;
        for (const auto& entry : rejected) {
            EXPECT_EQ(entry.at("reason"), "too-small");
            EXPECT_FALSE(entry.at("key").get<std::string>().empty());
            EXPECT_FALSE(entry.at("detail").get<std::string>().empty());
        }
    }
};

TEST_F(RejectFraction, TheRunStopsAsSoonAsTheRejectsMakeTheVerdictCertain) {
    expect_an_early_stop(convert(dir_ / "out", {"--min-side", "5000"}));
}

TEST_F(RejectFraction, TheRunStopsEarlyOnEveryRankAndTheRootListsAllRejects) {
    expect_an_early_stop(convert(dir_ / "out", {"--min-side", "5000"}, /*ranks=*/2));
}

}  // namespace
}  // namespace synshard::convert
