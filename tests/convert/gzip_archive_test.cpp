// A gzipped tar of per-synset tars given as --input (winter21_whole.tar.gz, issue 19): read
// in place through a seek index the root builds in one pass, saved at --archive-index and
// reused while the archive is unchanged; damaged gzip data is an archive-error and the
// rest converts.
#include <gtest/gtest.h>

#include <algorithm>

#include "convert/same_shards.hpp"
#include "corpus/corpus_fixture.hpp"
#include "faults/fault_support.hpp"
#include "synshard/corpus/gzip_index.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::testing {
namespace {

namespace fs = std::filesystem;

// No --quiet: the index's log lines are what these tests observe.
const std::vector<std::string> kCommonOptions{
    "--seed",     "3",    "--shard-size",          "8",  "--resize", "shorter:32",
    "--progress", "none", "--max-reject-fraction", "0.9"};

struct Corpus {
    fs::path folders;  // train/, val/, LOC_val_solution.csv
    fs::path plain;    // train.tar: a GNU tar of the per-synset tars
    fs::path gzipped;  // train.tar.gz: the same, gzipped
};

Corpus make_corpus(const fs::path& dir) {
    Corpus corpus{dir / "corpus", dir / "train.tar", dir / "train.tar.gz"};
    const auto synth = run_synshard({"synth", "--output", corpus.folders.string(), "--num-classes",
                                     "4", "--per-class", "6", "--val-per-class", "2",
                                     "--image-size", "160x120", "--seed", "4"});
    EXPECT_EQ(synth.exit_code, 0) << synth.output;
    const auto packed = run_shell("cd " + shell_quote(corpus.folders.string()) +
                                  " && tar --format=gnu -cf ../train.tar train_tars && gzip -n -c "
                                  "../train.tar > ../train.tar.gz");
    EXPECT_EQ(packed.exit_code, 0) << packed.output;
    return corpus;
}

ProcessResult convert(const Corpus& corpus, const fs::path& train, const fs::path& out,
                      const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"convert",
                                  "--input",
                                  train.string(),
                                  "--val-input",
                                  (corpus.folders / "val").string(),
                                  "--val-labels",
                                  (corpus.folders / "LOC_val_solution.csv").string(),
                                  "--output",
                                  out.string()};
    args.insert(args.end(), kCommonOptions.begin(), kCommonOptions.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return run_synshard(args);
}

// Where the walks of a gzipped archive's inner tars are saved beside its index.
fs::path listings_beside(const fs::path& index) {
    return index.string() + ".listings";
}

bool says(const ProcessResult& result, const std::string& text) {
    return result.output.find(text) != std::string::npos;
}

TEST(GzipArchive, ConvertsAsThePlainTarAndItsSavedIndexIsReusedUntilTheArchiveChanges) {
    TempDir dir;
    const Corpus corpus = make_corpus(dir.path());
    const auto plain = convert(corpus, corpus.plain, dir / "plain");
    ASSERT_EQ(plain.exit_code, 0) << plain.output;

    // Built once, outside OUT, in one pass.
    const fs::path index = dir / "indexes" / "train.index";
    fs::create_directories(index.parent_path());
    const std::vector<std::string> with_index{"--archive-index", index.string()};
    const auto built = convert(corpus, corpus.gzipped, dir / "gz", with_index);
    ASSERT_EQ(built.exit_code, 0) << built.output;
    EXPECT_TRUE(says(built, "gzip index: building")) << built.output;
    EXPECT_TRUE(says(built, "MB/s")) << built.output;
    EXPECT_TRUE(says(built, "archive listings: walked 4 inner tars (0 reused)")) << built.output;
    expect_same_shards(dir / "plain", dir / "gz");
    ASSERT_TRUE(fs::exists(index));
    ASSERT_TRUE(fs::exists(listings_beside(index)));

    // Reused by another run: no pass over the archive.
    const auto reused = convert(corpus, corpus.gzipped, dir / "gz-again", with_index);
    ASSERT_EQ(reused.exit_code, 0) << reused.output;
    EXPECT_TRUE(says(reused, "gzip index: reusing")) << reused.output;
    EXPECT_FALSE(says(reused, "gzip index: building")) << reused.output;
    EXPECT_TRUE(says(reused, "archive listings: reusing")) << reused.output;
    EXPECT_FALSE(says(reused, "archive listings: walked")) << reused.output;
    expect_same_shards(dir / "plain", dir / "gz-again");

    // --restart removes what the run wrote to OUT, never the user's index file.
    auto restart_options = with_index;
    restart_options.push_back("--restart");
    const auto restarted = convert(corpus, corpus.gzipped, dir / "gz", restart_options);
    ASSERT_EQ(restarted.exit_code, 0) << restarted.output;
    EXPECT_TRUE(fs::exists(index));
    EXPECT_TRUE(says(restarted, "gzip index: reusing")) << restarted.output;

    // A touched archive: the saved index is discarded, said, and built again.
    fs::last_write_time(corpus.gzipped,
                        fs::last_write_time(corpus.gzipped) + std::chrono::seconds(5));
    const auto touched = convert(corpus, corpus.gzipped, dir / "touched", with_index);
    ASSERT_EQ(touched.exit_code, 0) << touched.output;
    EXPECT_TRUE(says(touched, "gzip index: discarding")) << touched.output;
    EXPECT_TRUE(says(touched, "gzip index: building")) << touched.output;
    EXPECT_TRUE(says(touched, "archive listings: walked 4 inner tars (0 reused)"))
        << touched.output;
    expect_same_shards(dir / "plain", dir / "touched");

    // A corrupt index file (a byte of its table flipped): discarded and built again.
    auto bytes = read_file(index);
    ASSERT_GT(bytes.size(), 40U);
    bytes[bytes.size() - 30] ^= 0x01;
    write_file_atomically(index, bytes);
    const auto corrupt = convert(corpus, corpus.gzipped, dir / "corrupt", with_index);
    ASSERT_EQ(corrupt.exit_code, 0) << corrupt.output;
    EXPECT_TRUE(says(corrupt, "gzip index: discarding")) << corrupt.output;
    EXPECT_TRUE(says(corrupt, "gzip index: building")) << corrupt.output;
    expect_same_shards(dir / "plain", dir / "corrupt");
}

// A job killed during the index pass (SIGKILL: no clean-up) leaves "<index>.tmp"; its
// rerun recognises its own half-written index by its magic and builds it again. A file
// of anyone else's at that name is refused and left as it is.
TEST(GzipArchive, AnIndexPassCutShortIsRedoneButAUsersFileAtItsTemporaryIsLeft) {
    TempDir dir;
    const Corpus corpus = make_corpus(dir.path());
    const fs::path index = dir / "train.index";
    const std::vector<std::string> with_index{"--archive-index", index.string()};
    const auto built = convert(corpus, corpus.gzipped, dir / "whole", with_index);
    ASSERT_EQ(built.exit_code, 0) << built.output;
    auto cut_short = read_file(index);
    cut_short.resize(cut_short.size() / 2);
    fs::remove(index);
    write_file_atomically(temporary_path_for(index), cut_short);

    const auto redone = convert(corpus, corpus.gzipped, dir / "redone", with_index);
    ASSERT_EQ(redone.exit_code, 0) << redone.output;
    EXPECT_TRUE(says(redone, "gzip index: building")) << redone.output;
    EXPECT_FALSE(fs::exists(temporary_path_for(index)));
    expect_same_shards(dir / "whole", dir / "redone");

    const fs::path other = dir / "other.index";
    write_file_atomically(temporary_path_for(other), std::string_view("a user's notes"));
    const auto refused =
        convert(corpus, corpus.gzipped, dir / "refused", {"--archive-index", other.string()});
    EXPECT_EQ(refused.exit_code, 1) << refused.output;
    EXPECT_TRUE(says(refused, "other.index.tmp already exists")) << refused.output;
    EXPECT_EQ(testing::read_text(temporary_path_for(other)), "a user's notes");
    EXPECT_FALSE(fs::exists(other));
}

TEST(GzipArchive, WithoutArchiveIndexTheIndexIsKeptInOutUntilTheRunEnds) {
    TempDir dir;
    const Corpus corpus = make_corpus(dir.path());
    const auto plain = convert(corpus, corpus.plain, dir / "plain");
    ASSERT_EQ(plain.exit_code, 0) << plain.output;
    const fs::path out = dir / "gz";
    const fs::path index = out / "archive.index";

    // A run refused after its plan (too many shards) leaves the index it built in OUT.
    const auto refused = convert(corpus, corpus.gzipped, out, {"--train-shards", "999"});
    ASSERT_EQ(refused.exit_code, 2) << refused.output;
    EXPECT_TRUE(says(refused, "gzip index: building")) << refused.output;
    ASSERT_TRUE(fs::exists(index)) << refused.output;

    // The next run on OUT reuses it (OUT holds only files of ours), and once complete
    // removes it with the spool folders.
    const auto resumed = convert(corpus, corpus.gzipped, out);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_TRUE(says(resumed, "gzip index: reusing")) << resumed.output;
    EXPECT_FALSE(says(resumed, "gzip index: building")) << resumed.output;
    EXPECT_TRUE(says(resumed, "archive listings: reusing")) << resumed.output;
    expect_same_shards(dir / "plain", out);
    EXPECT_FALSE(fs::exists(index));
    EXPECT_FALSE(fs::exists(listings_beside(index)));

    // --restart clears OUT but keeps the index its own plan needs.
    const auto again = convert(corpus, corpus.gzipped, out, {"--train-shards", "999"});
    ASSERT_EQ(again.exit_code, 2) << again.output;
    ASSERT_TRUE(fs::exists(index)) << again.output;
    const auto restarted = convert(corpus, corpus.gzipped, out, {"--restart"});
    ASSERT_EQ(restarted.exit_code, 0) << restarted.output;
    EXPECT_TRUE(says(restarted, "gzip index: reusing")) << restarted.output;
    expect_same_shards(dir / "plain", out);
    EXPECT_FALSE(fs::exists(index));
}

TEST(GzipArchive, APlainArchiveKeepsItsInnerListingsAtArchiveIndex) {
    TempDir dir;
    const Corpus corpus = make_corpus(dir.path());
    const auto unindexed = convert(corpus, corpus.plain, dir / "unindexed");
    ASSERT_EQ(unindexed.exit_code, 0) << unindexed.output;
    // Without --archive-index, OUT keeps them until the run is complete.
    EXPECT_TRUE(says(unindexed, "saved in " + (dir / "unindexed" / "archive.index").string()))
        << unindexed.output;
    EXPECT_FALSE(fs::exists(dir / "unindexed" / "archive.index"));
    const fs::path listings = dir / "train.listings";
    const std::vector<std::string> with_index{"--archive-index", listings.string()};

    const auto walked = convert(corpus, corpus.plain, dir / "walked", with_index);
    ASSERT_EQ(walked.exit_code, 0) << walked.output;
    EXPECT_TRUE(says(walked, "archive listings: walked 4 inner tars (0 reused)")) << walked.output;
    ASSERT_TRUE(fs::exists(listings));
    expect_same_shards(dir / "unindexed", dir / "walked");

    const auto reused = convert(corpus, corpus.plain, dir / "reused", with_index);
    ASSERT_EQ(reused.exit_code, 0) << reused.output;
    EXPECT_TRUE(says(reused, "archive listings: reusing")) << reused.output;
    expect_same_shards(dir / "unindexed", dir / "reused");

    // One inner tar's saved walk damaged: that tar alone is walked again.
    auto bytes = read_file(listings);
    bytes[bytes.size() - 3] ^= 0x01;
    write_file_atomically(listings, bytes);
    const auto damaged = convert(corpus, corpus.plain, dir / "damaged", with_index);
    ASSERT_EQ(damaged.exit_code, 0) << damaged.output;
    EXPECT_TRUE(says(damaged, "archive listings: walked 1 inner tar (3 reused)")) << damaged.output;
    expect_same_shards(dir / "unindexed", dir / "damaged");

    // A touched archive: every saved walk is discarded.
    fs::last_write_time(corpus.plain, fs::last_write_time(corpus.plain) + std::chrono::seconds(5));
    const auto touched = convert(corpus, corpus.plain, dir / "touched", with_index);
    ASSERT_EQ(touched.exit_code, 0) << touched.output;
    EXPECT_TRUE(says(touched, "archive listings: walked 4 inner tars (0 reused)"))
        << touched.output;
    expect_same_shards(dir / "unindexed", dir / "touched");
}

// ILSVRC2012_img_train.tar without --archive-index: the walks of its inner tars are kept in
// OUT as a gzipped archive's index is, so that a resume reads none of their headers again,
// and never trusted when they no longer match the archive.
TEST(GzipArchive, WithoutArchiveIndexAPlainArchiveKeepsItsInnerListingsInOutForAResume) {
    TempDir dir;
    // --quirks: a few images are rejected, which stops a run allowing none of them.
    const auto synth = run_synshard({"synth", "--output", (dir / "corpus").string(),
                                     "--num-classes", "4", "--per-class", "6", "--val-per-class",
                                     "2", "--image-size", "160x120", "--seed", "4", "--quirks"});
    ASSERT_EQ(synth.exit_code, 0) << synth.output;
    const auto packed = run_shell("cd " + shell_quote((dir / "corpus").string()) +
                                  " && tar --format=gnu -cf ../train.tar train_tars");
    ASSERT_EQ(packed.exit_code, 0) << packed.output;
    const auto convert = [&](const fs::path& train, const fs::path& out,
                             const std::vector<std::string>& extra) {
        std::vector<std::string> args{"convert", "--input", train.string(), "--output",
                                      out.string()};
        const fs::path corpus = dir / "corpus";
        args.insert(args.end(), {"--val-input", (corpus / "val").string(), "--val-labels",
                                 (corpus / "LOC_val_solution.csv").string()});
        args.insert(args.end(), {"--seed", "3", "--shard-size", "8", "--resize", "shorter:32",
                                 "--progress", "none"});
        args.insert(args.end(), extra.begin(), extra.end());
        return run_synshard(args);
    };
    const std::vector<std::string> allow_rejects{"--max-reject-fraction", "0.5"};
    const auto folders = convert(dir / "corpus" / "train_tars", dir / "folders", allow_rejects);
    ASSERT_EQ(folders.exit_code, 3) << folders.output;
    const fs::path train = dir / "train.tar";
    const fs::path out = dir / "plain";
    const fs::path listings = out / "archive.index";

    // A run stopped by its first reject, after it took OUT: the walks stay in OUT.
    const auto stopped = convert(train, out, {"--max-reject-fraction", "0.001"});
    ASSERT_EQ(stopped.exit_code, 1) << stopped.output;
    EXPECT_TRUE(says(
        stopped, "archive listings: walked 4 inner tars (0 reused), saved in " + listings.string()))
        << stopped.output;
    ASSERT_TRUE(fs::exists(listings)) << stopped.output;

    // Its resume walks no inner tar, and once complete removes them.
    const auto resumed = convert(train, out, allow_rejects);
    ASSERT_EQ(resumed.exit_code, 3) << resumed.output;
    EXPECT_TRUE(says(resumed, "resuming the run recorded in")) << resumed.output;
    EXPECT_TRUE(says(resumed, "archive listings: reusing " + listings.string() +
                                  " (4 inner tars, none walked again)"))
        << resumed.output;
    EXPECT_FALSE(says(resumed, "archive listings: walked")) << resumed.output;
    expect_same_shards(dir / "folders", out);
    EXPECT_FALSE(fs::exists(listings));

    // Walks in OUT whose table was tampered with (a byte of an inner tar's path flipped),
    // left by a run refused after its plan: all walked again, and saved anew.
    const fs::path tampered_out = dir / "tampered";
    const auto refused = convert(train, tampered_out, {"--train-shards", "999"});
    ASSERT_EQ(refused.exit_code, 2) << refused.output;
    const fs::path tampered_listings = tampered_out / "archive.index";
    auto bytes = read_file(tampered_listings);
    const std::string member = "train_tars/";
    const auto path_at = std::search(bytes.begin(), bytes.end(), member.begin(), member.end());
    ASSERT_NE(path_at, bytes.end());
    *path_at ^= 0x01;
    write_file_atomically(tampered_listings, bytes);
    const auto tampered = convert(train, tampered_out, allow_rejects);
    ASSERT_EQ(tampered.exit_code, 3) << tampered.output;
    EXPECT_TRUE(says(tampered, "archive listings: walked 4 inner tars (0 reused), saved in " +
                                   tampered_listings.string()))
        << tampered.output;
    expect_same_shards(dir / "folders", tampered_out);

    // Walks in OUT saved for another state of the archive (touched since): walked again.
    const fs::path touched_out = dir / "touched";
    const auto before_touch = convert(train, touched_out, {"--train-shards", "999"});
    ASSERT_EQ(before_touch.exit_code, 2) << before_touch.output;
    ASSERT_TRUE(fs::exists(touched_out / "archive.index"));
    fs::last_write_time(train, fs::last_write_time(train) + std::chrono::seconds(5));
    const auto touched = convert(train, touched_out, allow_rejects);
    ASSERT_EQ(touched.exit_code, 3) << touched.output;
    EXPECT_TRUE(says(touched, "archive listings: walked 4 inner tars (0 reused)"))
        << touched.output;
    expect_same_shards(dir / "folders", touched_out);
}

TEST(GzipArchive, AnArchiveIndexInsideOutIsAUsageError) {
    TempDir dir;
    const Corpus corpus = make_corpus(dir.path());
    const fs::path out = dir / "out";
    for (const fs::path& index : {out / "train.index", out, out / "manifest.json"}) {
        SCOPED_TRACE(index.string());
        const auto result =
            convert(corpus, corpus.gzipped, out, {"--archive-index", index.string()});
        EXPECT_EQ(result.exit_code, 2) << result.output;
        EXPECT_TRUE(says(result, "--archive-index")) << result.output;
        EXPECT_FALSE(fs::exists(out));
    }
}

// The manifest's archive-error whose key holds `key` and whose detail holds `detail`.
void expect_archive_error(const nlohmann::json& manifest, const std::string& key,
                          const std::string& detail) {
    const auto& rejected = manifest.at("rejected");
    EXPECT_TRUE(std::any_of(
        rejected.begin(), rejected.end(),
        [&](const nlohmann::json& entry) {
            return entry.at("reason") == "archive-error" &&
                   entry.at("key").get<std::string>().find(key) != std::string::npos &&
                   entry.at("detail").get<std::string>().find(detail) != std::string::npos;
        }))
        << key << " / " << detail << ":\n"
        << rejected.dump(2);
}

// Everything under root, relative to it.
std::set<std::string> entries_under(const fs::path& root) {
    std::set<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(root))
        found.insert(entry.path().lexically_relative(root).string());
    return found;
}

TEST(GzipArchive, DamagedGzipDataIsAnArchiveErrorAndWhatLiesBeforeItConverts) {
    TempDir dir;
    const Corpus corpus = make_corpus(dir.path());
    const auto gzipped = read_file(corpus.gzipped);
    const auto all_images = files_ending_with(corpus.folders / "train", ".JPEG").size();
    // Where the deflate blocks start, from an index with access points close together.
    const auto blocks =
        corpus::build_gzip_index(corpus.gzipped, dir / "blocks.index", 4 * 1024).points;
    ASSERT_GE(blocks.size(), 6U);
    const auto& middle = blocks[blocks.size() / 2];

    struct Case {
        std::string name;
        std::vector<std::uint8_t> bytes;
        std::string detail;
    };
    std::vector<Case> cases{
        {"truncated", {gzipped.begin(), gzipped.begin() + gzipped.size() * 3 / 5}, "truncated"},
        {"corrupt", gzipped, "corrupt gzip data"}};
    // A block whose type is 3, which deflate does not have.
    const std::uint64_t first_bit = middle.compressed_offset * 8 - middle.bits;
    for (const std::uint64_t bit : {first_bit + 1, first_bit + 2})
        cases[1].bytes[bit / 8] |= static_cast<std::uint8_t>(1u << (bit % 8));

    for (const auto& [name, bytes, detail] : cases) {
        SCOPED_TRACE(name);
        const fs::path case_dir = dir / name;
        fs::create_directories(case_dir);
        const fs::path archive = case_dir / "train.tar.gz";
        write_file_atomically(archive, bytes);
        const auto before = entries_under(case_dir);
        const fs::path out = case_dir / "out";
        const fs::path index = case_dir / "train.index";
        const auto result = convert(corpus, archive, out, {"--archive-index", index.string()});
        ASSERT_EQ(result.exit_code, 3) << result.output;
        const auto manifest = read_json(out / "manifest.json");
        expect_archive_error(manifest, "train.tar.gz", detail);
        expect_archive_error(manifest, "train.tar.gz", "compressed offset");
        const auto converted = manifest["splits"]["train"]["num_samples"].get<std::size_t>();
        EXPECT_GT(converted, 0U) << manifest["rejected"].dump(2);
        EXPECT_LT(converted, all_images);
        // Nothing but OUT and the index file with its listings was written.
        auto after = entries_under(case_dir);
        std::erase_if(after, [](const std::string& entry) {
            return entry == "out" || entry.starts_with("out/") || entry == "train.index" ||
                   entry == "train.index.listings";
        });
        EXPECT_EQ(after, before);
        const auto verified = run_synshard({"verify", out.string()});
        EXPECT_EQ(verified.exit_code, 0) << verified.output;
    }

    // A gzip file whose content is no tar: a usage error, as for a plain file, and nothing
    // written (not even the index).
    const fs::path text = dir / "text.tar.gz";
    const auto gzipped_text =
        run_shell("echo 'n01440764,tench' | gzip -c > " + shell_quote(text.string()));
    ASSERT_EQ(gzipped_text.exit_code, 0) << gzipped_text.output;
    const auto result =
        convert(corpus, text, dir / "text-out", {"--archive-index", (dir / "text.index").string()});
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_TRUE(says(result, "neither a folder nor a tar")) << result.output;
    EXPECT_FALSE(fs::exists(dir / "text-out"));
    EXPECT_FALSE(fs::exists(dir / "text.index"));
}

}  // namespace
}  // namespace synshard::testing
