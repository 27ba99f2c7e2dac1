// Issue 16 ("Trust II"): a rerun reuses only the state its own run wrote, with its own
// options and inputs; whatever it cannot trust is discarded, never published.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "convert/convert_fixture.hpp"
#include "synshard/convert/journal.hpp"
#include "synshard/convert/output_files.hpp"
#include "synshard/convert/spool_folder.hpp"
#include "synshard/manifest/manifest.hpp"

namespace synshard::convert {
namespace {

namespace fs = std::filesystem;
using testing::ProcessResult;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

nlohmann::json read_json(const fs::path& path) {
    std::ifstream stream(path);
    return nlohmann::json::parse(stream);
}

std::vector<fs::path> spool_folders_in(const fs::path& scratch) {
    std::vector<fs::path> found;
    std::error_code error;
    for (auto it = fs::directory_iterator(scratch, error); !error && it != fs::directory_iterator();
         it.increment(error)) {
        if (is_spool_folder_name(it->path().filename().string())) found.push_back(it->path());
    }
    return found;
}

// The train images decoded by the run, from its --stats file (0 when it reused them all).
std::uint64_t images_decoded(const fs::path& stats) {
    std::uint64_t images = 0;
    const auto json = read_json(stats);
    for (const auto& rank : json.at("per_rank"))
        images += rank.at("stages").at("images").get<std::uint64_t>();
    return images;
}

class StaleScratch : public testing::ConvertFixture {
  protected:
    void SetUp() override {
        testing::ConvertFixture::SetUp();
        // One val image broken and one val shard too many: the run fails after every image
        // is processed, leaving its spools in the scratch folder.
        std::ofstream(corpus() / "val" / "ILSVRC2012_val_00000001.JPEG", std::ios::trunc)
            << "broken";
    }

    ProcessResult convert_resized(const fs::path& out, const std::string& resize, int val_shards,
                                  const fs::path& scratch, std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"convert"};
        const auto inputs = input_options();
        args.insert(args.end(), inputs.begin(), inputs.end());
        args.insert(args.end(),
                    {"--resize", resize, "--output", out.string(), "--scratch", scratch.string(),
                     "--val-shards", std::to_string(val_shards), "--max-reject-fraction", "0.5"});
        args.insert(args.end(), extra.begin(), extra.end());
        return testing::run_synshard(args);
    }

    // Fails after processing, at shorter:32, leaving spools in scratch_.
    void fail_after_processing(const fs::path& out) {
        const auto failed = convert_resized(out, "shorter:32", 6, scratch_);
        ASSERT_EQ(failed.exit_code, 1) << failed.output;
        ASSERT_EQ(spool_folders_in(scratch_).size(), 1u) << failed.output;
    }

    // The shards of a fresh run at `resize` (5 val shards) equal those of `out`.
    void expect_same_as_fresh(const fs::path& out, const std::string& resize) {
        const auto fresh = convert_resized(dir_ / "fresh", resize, 5, dir_ / "fresh-scratch");
        ASSERT_EQ(fresh.exit_code, 3) << fresh.output;
        const auto differences =
            manifest::compare_shards(manifest::read_manifest(dir_ / "fresh" / "manifest.json"),
                                     manifest::read_manifest(out / "manifest.json"));
        EXPECT_TRUE(differences.empty()) << manifest::describe(differences.front());
    }

    fs::path scratch_ = dir_ / "scratch";
};

TEST_F(StaleScratch, ARerunOnADeletedOutputNeverReadsTheOldSpools) {
    const auto out = dir_ / "out";
    fail_after_processing(out);
    fs::remove_all(out);
    const auto rerun = convert_resized(out, "shorter:48", 5, scratch_);
    ASSERT_EQ(rerun.exit_code, 3) << rerun.output;
    EXPECT_FALSE(contains(rerun.output, "resuming")) << rerun.output;
    expect_same_as_fresh(out, "shorter:48");
    EXPECT_TRUE(contains(rerun.output, "the spool folder of an earlier run on this output"))
        << rerun.output;
    EXPECT_TRUE(spool_folders_in(scratch_).empty()) << "the old run's spools are ours: removed";
}

TEST_F(StaleScratch, ARerunAfterTheJournalWasDeletedNeverReadsTheOldSpools) {
    const auto out = dir_ / "out";
    fail_after_processing(out);
    fs::remove(journal_path(out));
    const auto rerun = convert_resized(out, "shorter:48", 5, scratch_);
    ASSERT_EQ(rerun.exit_code, 3) << rerun.output;
    expect_same_as_fresh(out, "shorter:48");
    EXPECT_TRUE(spool_folders_in(scratch_).empty());
}

TEST_F(StaleScratch, AMovedOutputFindsItsSpoolsThroughItsRunId) {
    const auto out = dir_ / "out";
    fail_after_processing(out);
    const auto moved = dir_ / "moved";
    fs::rename(out, moved);
    const auto stats = dir_ / "stats.json";
    const auto rerun =
        convert_resized(moved, "shorter:32", 5, scratch_, {"--stats", stats.string()});
    ASSERT_EQ(rerun.exit_code, 3) << rerun.output;
    EXPECT_TRUE(contains(rerun.output, "resuming")) << rerun.output;
    EXPECT_EQ(images_decoded(stats), 0u) << "every processed image is reused:\n" << rerun.output;
    expect_same_as_fresh(moved, "shorter:32");
}

TEST_F(StaleScratch, ASpoolFolderWithAnotherHeaderIsDiscardedAndTheImagesProcessedAgain) {
    const auto out = dir_ / "out";
    fail_after_processing(out);
    const auto folder = spool_folders_in(scratch_).front();
    auto header = read_spool_header(folder);
    ASSERT_TRUE(header.has_value());
    header->processing_options["resize"] = "shorter:48";
    fs::remove(spool_header_path(folder));
    create_spool_header(folder, *header);
    const auto stats = dir_ / "stats.json";
    const auto rerun = convert_resized(out, "shorter:32", 5, scratch_, {"--stats", stats.string()});
    ASSERT_EQ(rerun.exit_code, 3) << rerun.output;
    EXPECT_TRUE(contains(rerun.output, "not reusing " + folder.string())) << rerun.output;
    EXPECT_GT(images_decoded(stats), 0u);
    expect_same_as_fresh(out, "shorter:32");
}

TEST_F(StaleScratch, SpoolFoldersOfOtherOutputsAreLeftAloneAndReportedWithTheirSize) {
    const auto other = scratch_ / "synshard-0123456789abcdef";
    fs::create_directories(other / "n01440764");
    std::ofstream(other / "n01440764" / "0-5.spool") << std::string(3000, 'x');
    SpoolHeader header;
    header.run_id = "0123456789abcdef";
    header.output = (dir_ / "another-output").string();
    create_spool_header(other, header);
    const auto unreadable = scratch_ / "synshard-fedcba9876543210";
    fs::create_directories(unreadable);
    std::ofstream(spool_header_path(unreadable)) << "{ torn";

    const auto out = dir_ / "out";
    const auto run = convert_resized(out, "shorter:32", 5, scratch_);
    ASSERT_EQ(run.exit_code, 3) << run.output;
    EXPECT_TRUE(contains(run.output, "left " + other.string() + " (")) << run.output;
    EXPECT_TRUE(contains(run.output, "KiB) alone: the spool folder of " + header.output))
        << run.output;
    EXPECT_TRUE(contains(run.output, "left " + unreadable.string())) << run.output;
    EXPECT_TRUE(fs::exists(other / "n01440764" / "0-5.spool"));
    EXPECT_TRUE(fs::exists(spool_header_path(unreadable)));
}

// The first image of the first class, rewritten with garbage of its size; with
// `keep_time` its modification time is put back.
fs::path rewrite_first_image(const fs::path& corpus, bool keep_time) {
    fs::path image;
    for (const auto& entry : fs::directory_iterator(corpus / "train" / "n01440764")) {
        if (image.empty() || entry.path() < image) image = entry.path();
    }
    const auto size = fs::file_size(image);
    const auto modified = fs::last_write_time(image);
    std::ofstream(image, std::ios::binary | std::ios::trunc) << std::string(size, 'x');
    fs::last_write_time(image, keep_time ? modified : modified + std::chrono::seconds(1));
    return image;
}

TEST_F(StaleScratch, AnImageRewrittenInPlaceRefusesTheResumeNamingItsSource) {
    const auto out = dir_ / "out";
    fail_after_processing(out);
    rewrite_first_image(corpus(), false);
    const auto rerun = convert_resized(out, "shorter:32", 5, scratch_);
    EXPECT_EQ(rerun.exit_code, 1) << rerun.output;
    EXPECT_TRUE(contains(rerun.output, "cannot resume")) << rerun.output;
    EXPECT_TRUE(contains(rerun.output, "n01440764 (an image's size or modification time"))
        << rerun.output;
    EXPECT_FALSE(fs::exists(out / "manifest.json"));
}

TEST_F(StaleScratch, ContentFingerprintsSeeARewriteThatKeptSizeAndTime) {
    const auto out = dir_ / "out";
    const std::vector<std::string> content{"--fingerprint", "content"};
    ASSERT_EQ(convert_resized(out, "shorter:32", 6, scratch_, content).exit_code, 1);
    rewrite_first_image(corpus(), true);
    const auto rerun = convert_resized(out, "shorter:32", 5, scratch_, content);
    EXPECT_EQ(rerun.exit_code, 1) << rerun.output;
    EXPECT_TRUE(contains(rerun.output, "n01440764 (")) << rerun.output;
}

class FinishedRun : public testing::ConvertFixture {};

TEST_F(FinishedRun, ARerunOfAFinishedOutputRemovesTheSpoolsItsRunLeft) {
    const auto out = dir_ / "out";
    const auto scratch = dir_ / "scratch";
    const std::vector<std::string> options{"--scratch", scratch.string()};
    ASSERT_EQ(convert(out, options).exit_code, 0);
    // What a run killed after writing its manifest leaves: its spool folder.
    const auto run_id = read_json(journal_path(out)).at("run_id").get<std::string>();
    const auto left = spool_folder(scratch, run_id);
    fs::create_directories(left / "n01440764");
    std::ofstream(left / "n01440764" / "0-5.spool") << "records";
    std::ofstream(left / "n01440764" / "0-5.done") << "outcomes";

    const auto rerun = convert(out, options);
    EXPECT_EQ(rerun.exit_code, 0) << rerun.output;
    EXPECT_TRUE(contains(rerun.output, "already complete")) << rerun.output;
    EXPECT_FALSE(fs::exists(left)) << rerun.output;
}

}  // namespace
}  // namespace synshard::convert
