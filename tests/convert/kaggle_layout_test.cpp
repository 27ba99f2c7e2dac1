// ILSVRC-2012 as Kaggle ships it, converted with the documented job file, against the
// official layout converted with README's command: the same images, the same shards.
#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/reader/shard_reader.hpp"

namespace synshard {
namespace {

namespace fs = std::filesystem;

// What both conversions are given besides the inputs (the job file's own image options
// included, so that neither side depends on a default).
const std::vector<std::string> kCommonOptions{
    "--seed", "11",      "--shard-size",          "32", "--resize", "shorter:256", "--quality",
    "90",     "--quiet", "--max-reject-fraction", "0.5"};

std::string quoted(const std::string& word) {
    return "'" + word + "'";
}

// Boxes stored in a split's shards.
std::size_t stored_boxes(const fs::path& out, const manifest::SplitEntry& split) {
    std::size_t boxes = 0;
    for (const auto& shard : split.shards) {
        const reader::ShardReader reader(out / shard.path);
        for (std::uint64_t row = 0; row < reader.num_samples(); ++row) {
            boxes += reader.read_metadata(row).boxes.size();
        }
    }
    return boxes;
}

TEST(KaggleLayout, ItsDocumentedCommandGivesTheIlsvrcLayoutsShardsWithTrainAndValBoxes) {
    testing::TempDir dir;
    for (const char* layout : {"ilsvrc", "kaggle"}) {
        const auto synth = testing::run_synshard(
            {"synth", "--output", (dir / layout).string(), "--layout", layout, "--num-classes", "6",
             "--per-class", "6", "--val-per-class", "3", "--seed", "5", "--quirks"});
        ASSERT_EQ(synth.exit_code, 0) << layout << ": " << synth.output;
    }

    // README's command for the official layout (jobs/sample.ini's inputs).
    const fs::path official = dir / "ilsvrc";
    std::vector<std::string> args{"convert",
                                  "--input",
                                  (official / "train").string(),
                                  "--val-input",
                                  (official / "val").string(),
                                  "--val-labels",
                                  (official / "LOC_val_solution.csv").string(),
                                  "--boxes",
                                  (official / "Annotation").string(),
                                  "--boxes",
                                  (official / "LOC_val_solution.csv").string(),
                                  "--output",
                                  (dir / "out-ilsvrc").string()};
    args.insert(args.end(), kCommonOptions.begin(), kCommonOptions.end());
    const auto from_ilsvrc = testing::run_synshard(args);
    EXPECT_EQ(from_ilsvrc.exit_code, 3) << from_ilsvrc.output;  // the quirks are rejected

    // README's command for Kaggle's layout: the job file, run where the download was
    // unpacked (its paths are relative to that folder).
    std::string command = "cd " + quoted((dir / "kaggle").string()) + " && " +
                          quoted(SYNSHARD_EXECUTABLE) + " convert --config " +
                          quoted(SYNSHARD_SOURCE_DIR "/jobs/imagenet-1k-kaggle.ini") +
                          " --output " + quoted((dir / "out-kaggle").string());
    for (const auto& option : kCommonOptions) command += " " + option;
    const auto from_kaggle = testing::run_shell(command);
    EXPECT_EQ(from_kaggle.exit_code, 3) << from_kaggle.output;

    const auto expected = manifest::read_manifest(dir / "out-ilsvrc" / "manifest.json");
    const auto actual = manifest::read_manifest(dir / "out-kaggle" / "manifest.json");
    for (const auto& difference : manifest::compare_shards(expected, actual)) {
        ADD_FAILURE() << manifest::describe(difference);
    }
    ASSERT_GE(expected.splits.at("train").shards.size(), 2U);
    EXPECT_GT(stored_boxes(dir / "out-kaggle", actual.splits.at("train")), 20U);
    EXPECT_GE(stored_boxes(dir / "out-kaggle", actual.splits.at("val")), 18U);  // 1..3 an image
}

}  // namespace
}  // namespace synshard
