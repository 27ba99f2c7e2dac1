#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::cli {
namespace {

using testing::run_shell;
using testing::run_synshard;

nlohmann::json read_json(const std::filesystem::path& path) {
    const auto bytes = read_file(path);
    return nlohmann::json::parse(bytes.begin(), bytes.end());
}

// `command` (plan or convert) of the quirky corpus, with the options both take.
std::vector<std::string> corpus_args(const std::string& command, const testing::TempDir& dir) {
    return {command,
            "--input",
            (dir / "tars").string(),
            "--val-input",
            (dir / "val").string(),
            "--val-labels",
            (dir / "LOC_val_solution.csv").string(),
            "--boxes",
            (dir / "Annotation").string(),
            "--min-per-class",
            "4",
            "--seed",
            "3",
            "--shard-size",
            "8"};
}

std::vector<std::string> plan_args(const testing::TempDir& dir, const std::string& json) {
    std::vector<std::string> args = corpus_args("plan", dir);
    args.insert(args.end(), {"--json", json});
    return args;
}

TEST(PlanCommand, PrintsTheSummaryAndTheSameJsonAtOneAndThreeRanks) {
    testing::TempDir dir;
    testing::make_quirky_corpus(dir.path());
    const auto one = run_synshard(plan_args(dir, (dir / "np1.json").string()));
    EXPECT_EQ(one.exit_code, 3) << one.output;  // unlabeled and unknown-class val images
    for (const char* text : {"classes: 3", "images: train 30, val 3", "shards: train 4, val 1",
                             "unlabeled: 2", "unknown-class: 1", "hidden: 1", "max/mean"}) {
        EXPECT_NE(one.output.find(text), std::string::npos) << text << " in\n" << one.output;
    }
    const auto plan = read_json(dir / "np1.json");
    EXPECT_EQ(plan["classes"][2]["synset"], "n02123045");
    EXPECT_EQ(plan["shards"]["train"], 4);
    EXPECT_EQ(plan["partition"]["ranks"], 1);
    EXPECT_EQ(plan["label_scheme"], "sorted");

    const auto three = testing::run_synshard_mpi(3, plan_args(dir, (dir / "np3.json").string()));
    EXPECT_EQ(three.exit_code, 3) << three.output;
    auto plan3 = read_json(dir / "np3.json");
    EXPECT_EQ(plan3["partition"]["ranks"], 3);
    auto plan1 = plan;
    plan1.erase("partition");
    plan3.erase("partition");
    EXPECT_EQ(plan1, plan3);
}

// Issue 3's acceptance: the synth corpus with its traps plans the same at 1 and 3 ranks,
// from folders and from per-synset tars, apart from the per-rank partition.
TEST(PlanCommand, SynthCorpusWithQuirksPlansTheSameAtOneAndThreeRanksAndForTars) {
    testing::TempDir dir;
    const auto corpus = dir / "corpus";
    const auto synth = run_synshard({"synth", "--output", corpus.string(), "--num-classes", "10",
                                     "--per-class", "6", "--seed", "3", "--quirks"});
    ASSERT_EQ(synth.exit_code, 0) << synth.output;
    const auto args = [&](const std::string& train, const std::string& json) {
        return std::vector<std::string>{"plan",
                                        "--input",
                                        (corpus / train).string(),
                                        "--val-input",
                                        (corpus / "val").string(),
                                        "--val-labels",
                                        (corpus / "LOC_val_solution.csv").string(),
                                        "--boxes",
                                        (corpus / "Annotation").string(),
                                        "--seed",
                                        "9",
                                        "--json",
                                        (dir / json).string()};
    };
    const auto one = run_synshard(args("train", "np1.json"));
    EXPECT_EQ(one.exit_code, 0) << one.output;  // nothing is decoded: only the dot file is skipped
    const auto three = testing::run_synshard_mpi(3, args("train", "np3.json"));
    EXPECT_EQ(three.exit_code, 0) << three.output;
    const auto tars = testing::run_synshard_mpi(3, args("train_tars", "tars.json"));
    EXPECT_EQ(tars.exit_code, 0) << tars.output;
    auto plan1 = read_json(dir / "np1.json");
    auto plan3 = read_json(dir / "np3.json");
    auto plan_tars = read_json(dir / "tars.json");
    EXPECT_EQ(plan3["partition"]["ranks"], 3);
    for (auto* plan : {&plan1, &plan3, &plan_tars}) plan->erase("partition");
    EXPECT_EQ(plan1, plan3);
    EXPECT_EQ(plan1["classes"].size(), 10U);
    // Only the kind of each train source tells the layouts apart: same keys, sizes,
    // fingerprint, classes, split and partition-free plan.
    for (auto& source : plan_tars["sources"]) {
        if (source["kind"] == "tar") source["kind"] = "folder";
    }
    EXPECT_EQ(plan1, plan_tars);
}

// plan counts shards as convert does, so it refuses what convert refuses, with the same
// message and exit code, and writes nothing (its own --train-shards once printed 31).
TEST(PlanCommand, RefusesMoreTrainShardsThanPlannedImagesAsConvertDoes) {
    testing::TempDir dir;
    testing::make_quirky_corpus(dir.path());
    const std::string refusal =
        "shard counts: --train-shards: asked for 31 shards but the split has only 30 samples "
        "(the plan has 30 train images)";
    std::vector<std::string> plan = plan_args(dir, (dir / "plan.json").string());
    plan.insert(plan.end(), {"--train-shards", "31"});
    const auto planned = run_synshard(plan);
    EXPECT_EQ(planned.exit_code, 2) << planned.output;
    EXPECT_NE(planned.output.find(refusal), std::string::npos) << planned.output;
    EXPECT_FALSE(std::filesystem::exists(dir / "plan.json"));

    std::vector<std::string> convert = corpus_args("convert", dir);
    convert.insert(convert.end(), {"--output", (dir / "out").string(), "--train-shards", "31"});
    const auto converted = run_synshard(convert);
    EXPECT_EQ(converted.exit_code, 2) << converted.output;
    EXPECT_NE(converted.output.find(refusal), std::string::npos) << converted.output;
}

TEST(PlanCommand, ConflictingOrMissingOptionsAreUsageErrors) {
    testing::TempDir dir;
    testing::make_two_layouts(dir.path(), {2});
    const std::string input = (dir / "dirs").string();
    EXPECT_EQ(
        run_synshard({"plan", "--input", input, "--val-per-class", "1", "--val-fraction", "0.1"})
            .exit_code,
        2);
    EXPECT_EQ(run_synshard({"plan", "--input", (dir / "nope").string()}).exit_code, 2);
    EXPECT_EQ(run_synshard({"plan", "--input", input, "--label-scheme", "file"}).exit_code, 2);
    EXPECT_EQ(run_synshard({"plan", "--input", input, "--val-fraction", "1.5"}).exit_code, 2);
    EXPECT_EQ(run_synshard({"plan", "--input", input, "--val-input", input, "--val-per-class", "2"})
                  .exit_code,
              2);
    const auto ok = run_synshard({"plan", "--input", input});
    EXPECT_EQ(ok.exit_code, 0) << ok.output;
    EXPECT_NE(ok.output.find("no val split"), std::string::npos) << ok.output;
}

TEST(HierarchyCommand, PrintsPathsAndChildrenAndNamesUnknownIds) {
    const auto dog = run_synshard({"hierarchy", "n02084071"});
    EXPECT_EQ(dog.exit_code, 0) << dog.output;
    EXPECT_NE(dog.output.find("mammal > placental > carnivore > canine > dog\n"), std::string::npos)
        << dog.output;
    EXPECT_NE(dog.output.find("2 hypernym paths from the root:"), std::string::npos);
    EXPECT_NE(dog.output.find("n02085374 toy dog"), std::string::npos);
    const auto bad = run_synshard({"hierarchy", "n02084071", "n12345678"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.output.find("n12345678"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace synshard::cli
