// What convert would do, without doing it (issue 21): `convert --dry-run` prints the
// plan and the shard counts, or the usage error convert would raise (about OUT too), and
// writes nothing; `plan` reads a job file's [convert] section; `plan --ranks N` shows the
// partition of N ranks from one process, the one N ranks make.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace synshard::cli {
namespace {

namespace fs = std::filesystem;
using testing::run_synshard;

// A synth corpus of 3 classes, large enough that pieces are cut within a class.
class DryRun : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        shared_ = std::make_unique<testing::TempDir>();
        const auto synth = run_synshard({"synth", "--output", corpus().string(), "--num-classes",
                                         "3", "--per-class", "30", "--val-per-class", "2",
                                         "--image-size", "48x48", "--seed", "5"});
        ASSERT_EQ(synth.exit_code, 0) << synth.output;
    }
    static void TearDownTestSuite() { shared_.reset(); }

    static fs::path corpus() { return shared_->path() / "corpus"; }
    static std::string train() { return (corpus() / "train").string(); }

    testing::TempDir dir_;

  private:
    static inline std::unique_ptr<testing::TempDir> shared_;
};

TEST_F(DryRun, PrintsThePlanAndTheShardCountsAndWritesNothing) {
    const fs::path out = dir_ / "out";
    const auto result = run_synshard({"convert", "--input", train(), "--output", out.string(),
                                      "--val-fraction", "0.1", "--shard-size", "20", "--dry-run"});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    for (const char* text : {"classes: 3", "shards: train ", "dry run"})
        EXPECT_NE(result.output.find(text), std::string::npos) << text << " in\n" << result.output;
    EXPECT_FALSE(fs::exists(out));
    EXPECT_TRUE(fs::is_empty(dir_.path()));
}

TEST_F(DryRun, ReadsTheJobFilesConvertSection) {
    const fs::path out = dir_ / "out";
    std::ofstream(dir_ / "job.ini") << "[convert]\ninput = " << train()
                                    << "\noutput = " << out.string() << "\nshard-size = 20\n";
    const auto result =
        run_synshard({"convert", "--config", (dir_ / "job.ini").string(), "--dry-run"});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("shards: train "), std::string::npos) << result.output;
    EXPECT_FALSE(fs::exists(out));
}

TEST_F(DryRun, ARefusedOptionIsAUsageErrorAndWritesNothing) {
    const fs::path out = dir_ / "out";
    for (const std::vector<std::string>& refused :
         {std::vector<std::string>{"--train-shards", "1000"},
          std::vector<std::string>{"--encoding", "raw"},
          std::vector<std::string>{"--output", (corpus() / "train/sub").string()}}) {
        std::vector<std::string> args{"convert",   "--input",  train(),
                                      "--dry-run", "--output", out.string()};
        args.insert(args.end() - 2, refused.begin(), refused.end());
        const auto result = run_synshard(args);
        EXPECT_EQ(result.exit_code, 2) << refused[0] << result.output;
        EXPECT_NE(result.output.find(refused[0]), std::string::npos) << result.output;
        EXPECT_FALSE(fs::exists(out));
        EXPECT_FALSE(fs::exists(corpus() / "train/sub"));
    }
}

// Convert refuses an OUT holding files it did not write before it plans: so does the dry run.
TEST_F(DryRun, RefusesAnOutputHoldingAForeignFileAndLeavesItAlone) {
    const fs::path out = dir_ / "out";
    fs::create_directories(out);
    std::ofstream(out / "notes.txt") << "mine\n";
    const auto result = run_synshard({"convert", "--input", train(), "--output", out.string(),
                                      "--shard-size", "20", "--dry-run"});
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_NE(result.output.find((out / "notes.txt").string()), std::string::npos) << result.output;
    EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator()), 1);
    EXPECT_EQ(testing::read_text(out / "notes.txt"), "mine\n");
}

TEST_F(DryRun, SaysOutputHoldsAFinishedRun) {
    const fs::path out = dir_ / "out";
    const std::vector<std::string> args{"convert",    "--input",      train(), "--output",
                                        out.string(), "--shard-size", "20"};
    const auto convert = run_synshard(args);
    ASSERT_EQ(convert.exit_code, 0) << convert.output;
    const auto before = testing::file_digests(out);
    auto dry_args = args;
    dry_args.push_back("--dry-run");
    const auto result = run_synshard(dry_args);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("which holds a finished run"), std::string::npos) << result.output;
    EXPECT_EQ(testing::file_digests(out), before);
}

// An archive as --input (ILSVRC2012_img_train.tar, plain or gzipped): convert keeps an index
// of it in OUT until its run is complete; the dry run neither writes one nor creates OUT
// for it, nor touches the index an earlier run left there.
TEST_F(DryRun, WritesNoIndexOfAnArchiveInput) {
    testing::TempDir inputs;
    const auto packed = testing::run_shell(
        "cd '" + corpus().string() + "' && tar --format=gnu -cf '" +
        (inputs / "train.tar").string() + "' train_tars && gzip -n -c '" +
        (inputs / "train.tar").string() + "' > '" + (inputs / "train.tar.gz").string() + "'");
    ASSERT_EQ(packed.exit_code, 0) << packed.output;
    const auto inputs_before = testing::file_digests(inputs.path());
    const fs::path out = dir_ / "out";
    const auto dry_run = [&](const std::string& archive) {
        return run_synshard({"convert", "--input", (inputs / archive).string(), "--output",
                             out.string(), "--val-fraction", "0.1", "--shard-size", "20",
                             "--dry-run"});
    };
    const auto plain = dry_run("train.tar");
    EXPECT_EQ(plain.exit_code, 0) << plain.output;
    EXPECT_NE(plain.output.find("classes: 3"), std::string::npos) << plain.output;
    EXPECT_FALSE(fs::exists(out));
    // Planning a gzipped archive takes its seek index, built in one pass and saved: the dry
    // run asks for the file to keep it in rather than writing it to OUT.
    const auto gzipped = dry_run("train.tar.gz");
    EXPECT_EQ(gzipped.exit_code, 2) << gzipped.output;
    EXPECT_NE(gzipped.output.find("--archive-index"), std::string::npos) << gzipped.output;
    EXPECT_TRUE(fs::is_empty(dir_.path()));
    EXPECT_EQ(testing::file_digests(inputs.path()), inputs_before);

    // OUT holding the index a run refused after its plan left: left as it is.
    const auto refused =
        run_synshard({"convert", "--input", (inputs / "train.tar").string(), "--output",
                      out.string(), "--val-fraction", "0.1", "--train-shards", "999"});
    ASSERT_EQ(refused.exit_code, 2) << refused.output;
    ASSERT_TRUE(fs::exists(out / "archive.index")) << refused.output;
    const auto out_before = testing::file_digests(out);
    const auto again = dry_run("train.tar");
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_EQ(testing::file_digests(out), out_before);
}

// jobs/sample.ini has no [plan]: plan takes the corpus and shard options of [convert].
TEST_F(DryRun, PlanReadsTheSampleJobsConvertSection) {
    const fs::path job = testing::test_data_dir().parent_path().parent_path() / "jobs/sample.ini";
    const auto result = testing::run_shell(
        "cd '" + dir_.path().string() + "' && '" + SYNSHARD_EXECUTABLE + "' synth --config '" +
        job.string() + "' && '" + SYNSHARD_EXECUTABLE + "' plan --config '" + job.string() + "'");
    // What makes convert exit 3 (truncated, CMYK... images) is found decoding, not planning.
    EXPECT_EQ(result.exit_code, 0) << result.output;
    for (const char* text : {"classes: 10", "shards: train 4, val 1"})
        EXPECT_NE(result.output.find(text), std::string::npos) << text << " in\n" << result.output;
    EXPECT_FALSE(fs::exists(dir_ / "sample/out"));
}

nlohmann::json partition_of(const fs::path& json) {
    const std::string text = testing::read_text(json);
    return nlohmann::json::parse(text)["partition"];
}

TEST_F(DryRun, PlanRanksShowsThePartitionThatThreeRanksMake) {
    const auto three = testing::run_synshard_mpi(
        3, {"plan", "--input", train(), "--json", (dir_ / "np3.json").string()});
    ASSERT_EQ(three.exit_code, 0) << three.output;
    const auto one = run_synshard(
        {"plan", "--input", train(), "--ranks", "3", "--json", (dir_ / "ranks3.json").string()});
    ASSERT_EQ(one.exit_code, 0) << one.output;
    const auto expected = partition_of(dir_ / "np3.json");
    const auto shown = partition_of(dir_ / "ranks3.json");
    EXPECT_EQ(shown, expected);
    // Cut finer than one rank's plan, and every image in exactly one piece.
    const auto single =
        run_synshard({"plan", "--input", train(), "--json", (dir_ / "np1.json").string()});
    ASSERT_EQ(single.exit_code, 0) << single.output;
    EXPECT_GT(shown["pieces"].size(), partition_of(dir_ / "np1.json")["pieces"].size());
    std::map<std::string, std::uint64_t> next_item;  // source -> end of its last piece
    for (const auto& piece : shown["pieces"]) {
        EXPECT_EQ(piece["begin"], next_item[piece["source"]]) << piece;
        next_item[piece["source"]] = piece["end"];
    }
    const auto sources = nlohmann::json::parse(testing::read_text(dir_ / "ranks3.json"))["sources"];
    ASSERT_EQ(next_item.size(), sources.size());
    for (const auto& source : sources) EXPECT_EQ(next_item[source["name"]], source["items"]);
    // One line per rank.
    for (const char* text : {"rank 0:", "rank 1:", "rank 2:"})
        EXPECT_NE(one.output.find(text), std::string::npos) << text << " in\n" << one.output;
}

}  // namespace
}  // namespace synshard::cli
