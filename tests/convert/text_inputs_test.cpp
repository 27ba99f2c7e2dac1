// The label, box and class files as users hold them (a byte-order mark, CRLF, tabs, a
// trailing comma, a header row) convert to the same shards as the clean files.
#include <gtest/gtest.h>

#include "convert/convert_fixture.hpp"
#include "corpus/corpus_fixture.hpp"
#include "support/text_variants.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/reader/shard_reader.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::convert {
namespace {

namespace fs = std::filesystem;

class TextInputs : public testing::ConvertFixture {
  protected:
    // A conversion of the synth corpus with its labels, boxes and class list read from
    // `metadata` (a folder holding LOC_val_solution.csv, LOC_train_solution.csv and
    // LOC_synset_mapping.txt).
    testing::ProcessResult convert_with(const fs::path& metadata, const fs::path& out) const {
        return testing::run_synshard({"convert", "--input", (corpus() / "train").string(),
                                      "--val-input", (corpus() / "val").string(), "--val-labels",
                                      (metadata / "LOC_val_solution.csv").string(), "--boxes",
                                      (metadata / "LOC_train_solution.csv").string(), "--boxes",
                                      (metadata / "LOC_val_solution.csv").string(), "--classes",
                                      (metadata / "LOC_synset_mapping.txt").string(),
                                      "--label-scheme", "file", "--resize", "shorter:32",
                                      "--output", out.string()});
    }
};

using testing::read_text;

// A byte-order mark, then each row with CRLF and `end` before it.
std::string as_users_save_it(const std::string& rows, std::string_view end) {
    return std::string(testing::kUtf8Bom) +
           testing::replace_all(testing::with_row_ends(rows, end), "\n", "\r\n");
}

// A LOC CSV with a tab or spaces between all its fields and a comma ending every row.
std::string messy_loc_csv(const std::string& clean) {
    std::string rows = testing::replace_all(clean, " \n", "\n");
    rows = testing::replace_all(rows, " ", "\t");
    rows = testing::replace_all(rows, ",", "  ,   ");
    return as_users_save_it(rows, ",");
}

// LOC_synset_mapping.txt below a header, a tab after each wnid, whitespace ending every row.
std::string messy_synset_mapping(const std::string& clean) {
    std::string rows = "synset,words\n";
    for (std::size_t at = 0; at < clean.size();) {
        const auto end = clean.find('\n', at);
        std::string line = clean.substr(at, end - at);
        line[line.find(' ')] = '\t';
        rows += line + "\n";
        at = end + 1;
    }
    return as_users_save_it(rows, " \t");
}

std::size_t stored_boxes(const fs::path& out, const manifest::SplitEntry& split) {
    std::size_t boxes = 0;
    for (const auto& shard : split.shards) {
        const reader::ShardReader reader(out / shard.path);
        for (std::uint64_t row = 0; row < reader.num_samples(); ++row)
            boxes += reader.read_metadata(row).boxes.size();
    }
    return boxes;
}

TEST_F(TextInputs, LabelsBoxesAndClassesSavedWithBomCrlfTabsAndTrailingCommasGiveTheSameShards) {
    const auto messy = dir_ / "messy";
    for (const char* csv : {"LOC_val_solution.csv", "LOC_train_solution.csv"})
        testing::write_bytes(messy / csv, messy_loc_csv(read_text(corpus() / csv)));
    testing::write_bytes(messy / "LOC_synset_mapping.txt",
                         messy_synset_mapping(read_text(corpus() / "LOC_synset_mapping.txt")));

    const auto clean = convert_with(corpus(), dir_ / "clean-out");
    ASSERT_EQ(clean.exit_code, 0) << clean.output;
    const auto from_messy = convert_with(messy, dir_ / "messy-out");
    ASSERT_EQ(from_messy.exit_code, 0) << from_messy.output;

    const auto expected = manifest::read_manifest(dir_ / "clean-out" / "manifest.json");
    const auto actual = manifest::read_manifest(dir_ / "messy-out" / "manifest.json");
    for (const auto& difference : manifest::compare_shards(expected, actual))
        ADD_FAILURE() << manifest::describe(difference);
    // Not vacuous: both splits are there and carry boxes.
    EXPECT_EQ(actual.splits.at("val").num_samples, 6u);
    EXPECT_GT(stored_boxes(dir_ / "messy-out", actual.splits.at("train")), 0u);
    EXPECT_GT(stored_boxes(dir_ / "messy-out", actual.splits.at("val")), 0u);
}

}  // namespace
}  // namespace synshard::convert
