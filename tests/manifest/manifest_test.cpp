#include "synshard/manifest/manifest.hpp"

#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::manifest {
namespace {

Manifest full_manifest() {
    Manifest manifest = make_manifest();
    manifest.options = Json{{"shard-size", 1024}, {"encoding", "source"}, {"drop-leaks", false}};
    manifest.input_fingerprint = std::string(64, 'a');
    manifest.seed = 18446744073709551615ULL;  // the full uint64 range survives JSON
    manifest.label_scheme = "alphabetical";
    manifest.box_origin = 0;
    manifest.splits["train"] =
        SplitEntry{3,
                   {{"train/train-00000-of-00002.h5", 2, 1000, std::string(64, '1')},
                    {"train/train-00001-of-00002.h5", 1, 900, std::string(64, '2')}}};
    manifest.splits["val"] = SplitEntry{1, {{"val/val-00000-of-00001.h5", 1, 800, "3"}}};
    manifest.index = FileEntry{5000, std::string(64, '4')};
    manifest.scanned = 6;
    manifest.classes = {{0, "n01440764", "tench, Tinca tinca", {{"train", 2}, {"val", 1}}},
                        {1, "n02123045", "caf\xc3\xa9", {{"train", 1}, {"val", 0}}}};
    manifest.rejected = {{"n01440764_9.JPEG", Reason::truncated, "premature end of data"},
                         {"n01440764_8.JPEG", Reason::duplicate, "copy of n01440764_1.JPEG"}};
    manifest.duplicates = {{std::string(64, 'd'), {"n01440764_1.JPEG", "n01440764_8.JPEG"}}};
    manifest.leaks = {{std::string(64, 'e'), {"ILSVRC2012_val_00000001.JPEG", "n01_2.JPEG"}}};
    manifest.stats = PixelStats{{120.5, 115.25, 103.125}, {58.1, 57.0, 57.3}};
    manifest.timings = Json{{"scan", 1.5}, {"write", 2.25}};
    return manifest;
}

TEST(Manifest, RoundTripThroughFile) {
    testing::TempDir dir;
    const Manifest manifest = full_manifest();
    const auto path = dir / kManifestFileName;
    write_manifest(path, manifest);
    EXPECT_FALSE(std::filesystem::exists(temporary_path_for(path)));
    EXPECT_EQ(read_manifest(path), manifest);
    const std::vector<std::uint8_t> bytes = read_file(path);
    const std::string text(bytes.begin(), bytes.end());
    EXPECT_EQ(text.back(), '\n');
    // The documented key order, pretty-printed.
    const std::vector<std::string> keys = {
        "format_version", "tool_version", "environment",  "options",    "input_fingerprint",
        "seed",           "hash",         "label_scheme", "box_origin", "splits",
        "index",          "classes",      "scanned",      "rejected",   "duplicates",
        "leaks",          "stats",        "timings",      "digests"};
    std::size_t previous = 0;
    for (const std::string& key : keys) {
        const std::size_t at = text.find("\n  \"" + key + "\":");
        ASSERT_NE(at, std::string::npos) << key;
        EXPECT_GT(at, previous) << key;
        previous = at;
    }
    EXPECT_NE(text.find("\"reason\": \"truncated\""), std::string::npos);
    EXPECT_NE(text.find(std::string("\"hash\": \"") + std::string(kKeyedHashName)),
              std::string::npos);
}

TEST(Manifest, MakeManifestRecordsThisBuild) {
    const Manifest manifest = make_manifest();
    EXPECT_EQ(manifest.format_version, 3);
    EXPECT_FALSE(manifest.tool_version.empty());
    EXPECT_EQ(manifest.hash, kKeyedHashName);
    bool has_hdf5 = false;
    for (const auto& [name, version] : manifest.environment) has_hdf5 |= name == "hdf5";
    EXPECT_TRUE(has_hdf5);
}

TEST(Manifest, MalformedManifestsNameTheProblem) {
    testing::TempDir dir;
    const auto path = dir / kManifestFileName;
    write_file_atomically(path, std::string_view("{\"format_version\": 1"));
    EXPECT_THROW(read_manifest(path), Error);
    Json json = to_json(full_manifest());
    json.erase("splits");
    try {
        from_json(json, "M");
        FAIL() << "expected an Error";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("splits"), std::string::npos) << error.what();
    }
    json = to_json(full_manifest());
    json["rejected"][0]["reason"] = "tired";
    EXPECT_THROW(from_json(json), Error);
    EXPECT_THROW(read_manifest(dir / "absent.json"), Error);
}

TEST(Manifest, ManifestsWithoutIndexOrScannedReadAsAbsent) {
    Json json = to_json(full_manifest());
    json.erase("index");
    json.erase("scanned");
    const Manifest manifest = from_json(json);
    EXPECT_FALSE(manifest.index.has_value());
    EXPECT_FALSE(manifest.scanned.has_value());
}

TEST(Manifest, DigestsNameEveryEditedSection) {
    Json json = to_json(full_manifest());
    ASSERT_EQ(json[kDigestsKey].size(), json.size() - 1);
    EXPECT_TRUE(edited_sections(json).empty());
    // The digest of the compact text, as Python's json.dumps(separators=(",", ":")) writes it.
    EXPECT_EQ(json[kDigestsKey]["seed"],
              to_hex(sha256(
                  std::span(reinterpret_cast<const std::uint8_t*>("18446744073709551615"), 20))));
    const std::string seed_digest = json[kDigestsKey]["seed"];
    json["seed"] = 1;
    json["classes"][0]["counts"]["train"] = 7;
    json.erase("leaks");
    json[kDigestsKey].erase("stats");
    const std::vector<EditedSection> edited = edited_sections(json);
    ASSERT_EQ(edited.size(), 4U);
    EXPECT_EQ(edited[0], (EditedSection{"seed", seed_digest, section_digest(Json(1))}));
    EXPECT_EQ(edited[1].key, "classes");
    EXPECT_EQ(edited[2], (EditedSection{"stats", "", section_digest(json["stats"])}));
    EXPECT_EQ(edited[3].key, "leaks");
    EXPECT_TRUE(edited[3].actual.empty());
}

TEST(Manifest, StatsOfExactSums) {
    // Pixels 0 and 2 in every channel: mean 1, std 1.
    const PixelStats stats = stats_of({2, 2, 2}, {4, 4, 4}, 2);
    EXPECT_EQ(stats.mean, (std::array<double, 3>{1, 1, 1}));
    EXPECT_EQ(stats.std, (std::array<double, 3>{1, 1, 1}));
    EXPECT_EQ(stats_of({}, {}, 0), PixelStats{});
}

TEST(Manifest, CompareShardsListsEveryDifference) {
    const Manifest expected = full_manifest();
    EXPECT_TRUE(compare_shards(expected, expected).empty());
    Manifest actual = expected;
    actual.splits["train"].shards[1].sha256 = std::string(64, 'f');
    actual.splits["val"].shards.clear();
    actual.splits["val"].shards.push_back({"val/val-00000-of-00002.h5", 1, 1, "4"});
    const std::vector<ShardDifference> differences = compare_shards(expected, actual);
    ASSERT_EQ(differences.size(), 3U);
    EXPECT_EQ(differences[0], (ShardDifference{"train/train-00001-of-00002.h5",
                                               std::string(64, '2'), std::string(64, 'f')}));
    EXPECT_EQ(differences[1], (ShardDifference{"val/val-00000-of-00001.h5", "3", ""}));
    EXPECT_EQ(differences[2], (ShardDifference{"val/val-00000-of-00002.h5", "", "4"}));
    EXPECT_EQ(describe(differences[1]), "val/val-00000-of-00001.h5: expected 3 got missing");
}

}  // namespace
}  // namespace synshard::manifest
