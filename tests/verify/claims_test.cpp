// `synshard verify` on real outputs of `synshard convert` whose manifest, index.h5 or
// folder was edited afterwards: each edit is a problem naming the file and the claim.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.hpp"
#include "synshard/h5/index_writer.hpp"
#include "synshard/manifest/manifest.hpp"

namespace synshard::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// One conversion of a synth corpus with ImageNet's traps (rejects, duplicates, a leak),
// shared by the tests, which each edit a copy of it.
class VerifyClaims : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir();
        const fs::path corpus = dir_->path() / "corpus";
        const auto synth = run_synshard({"synth", "--output", corpus.string(), "--num-classes",
                                         "10", "--per-class", "6", "--val-per-class", "2",
                                         "--image-size", "96x64", "--seed", "5", "--quirks"});
        ASSERT_EQ(synth.exit_code, 0) << synth.output;
        const auto convert = run_synshard({"convert",
                                           "--input",
                                           (corpus / "train").string(),
                                           "--val-input",
                                           (corpus / "val").string(),
                                           "--val-labels",
                                           (corpus / "LOC_val_solution.csv").string(),
                                           "--boxes",
                                           (corpus / "Annotation").string(),
                                           "--resize",
                                           "shorter:32",
                                           "--shard-size",
                                           "16",
                                           "--seed",
                                           "3",
                                           "--max-reject-fraction",
                                           "0.5",
                                           "--quiet",
                                           "--output",
                                           reference().string()});
        ASSERT_EQ(convert.exit_code, 3) << convert.output;  // completed, some inputs rejected
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }

    static fs::path reference() { return dir_->path() / "reference"; }

    void SetUp() override {
        fs::copy(reference(), out(), fs::copy_options::recursive);
        manifest_ = read_json(out() / manifest::kManifestFileName);
    }

    fs::path out() const { return work_.path() / "out"; }

    static Json read_json(const fs::path& path) {
        std::ifstream in(path);
        return Json::parse(in);
    }

    // Writes manifest_ back as a hand edit would: pretty-printed, digests as they were.
    void write_manifest() const {
        std::ofstream(out() / manifest::kManifestFileName, std::ios::trunc)
            << manifest_.dump(2) << "\n";
    }

    ProcessResult verify(std::vector<std::string> extra = {}) const {
        std::vector<std::string> args{"verify", out().string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_synshard(args);
    }

    // Verify fails (exit 1) and prints each of `lines` ("<file>: <what>" fragments).
    void expect_problems(const std::vector<std::string>& lines,
                         std::vector<std::string> extra = {}) const {
        const ProcessResult result = verify(std::move(extra));
        EXPECT_EQ(result.exit_code, 1) << result.output;
        for (const auto& line : lines) {
            EXPECT_NE(result.output.find(line), std::string::npos)
                << "missing \"" << line << "\" in:\n"
                << result.output;
        }
    }

    static inline TempDir* dir_ = nullptr;
    TempDir work_;
    Json manifest_;
};

// Replaces a variable-length string dataset's values in place, as h5py would.
void rewrite_strings(const fs::path& file, const char* dataset,
                     const std::function<void(std::vector<std::string>&)>& edit) {
    const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hid_t d = H5Dopen2(f, dataset, H5P_DEFAULT);
    ASSERT_GE(d, 0);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hid_t space = H5Dget_space(d);
    std::vector<char*> raw(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    ASSERT_GE(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), 0);
    std::vector<std::string> values(raw.begin(), raw.end());
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, raw.data());
    edit(values);
    for (std::size_t i = 0; i < values.size(); ++i) raw[i] = values[i].data();
    ASSERT_GE(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), 0);
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(d);
    ASSERT_GE(H5Fclose(f), 0);
}

TEST_F(VerifyClaims, TheUneditedOutputPasses) {
    const ProcessResult result = verify({"--full"});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("no problems"), std::string::npos) << result.output;
    // What the edits below rely on: rejects, a dropped duplicate and a leak.
    ASSERT_FALSE(manifest_["rejected"].empty());
    ASSERT_FALSE(manifest_["leaks"].empty());
    EXPECT_EQ(manifest_["scanned"].get<std::uint64_t>(),
              manifest_["splits"]["train"]["num_samples"].get<std::uint64_t>() +
                  manifest_["splits"]["val"]["num_samples"].get<std::uint64_t>() +
                  manifest_["rejected"].size());
}

TEST_F(VerifyClaims, AClassCountPlusFiveIsNamed) {
    manifest_["classes"][2]["counts"]["train"] =
        manifest_["classes"][2]["counts"]["train"].get<std::uint64_t>() + 5;
    write_manifest();
    const std::string synset = manifest_["classes"][2]["synset"];
    expect_problems({"manifest.json: the classes section was edited",
                     "manifest.json: classes[2] (" + synset + ") counts.train is"});
}

TEST_F(VerifyClaims, ARemovedRejectBreaksTheAccounting) {
    manifest_["rejected"].erase(0);
    write_manifest();
    expect_problems({"manifest.json: the rejected section was edited",
                     "manifest.json: the accounting does not add up"});
}

TEST_F(VerifyClaims, ARemovedDuplicateGroupIsNamed) {
    // The group of a dropped duplicate: its reject then belongs to no group.
    std::string dropped;
    for (const auto& rejection : manifest_["rejected"]) {
        if (rejection["reason"] == "duplicate") dropped = rejection["key"];
    }
    ASSERT_FALSE(dropped.empty()) << manifest_["rejected"].dump(2);
    auto& groups = manifest_["duplicates"];
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const auto& keys = groups[g]["keys"];
        if (std::find(keys.begin(), keys.end(), Json(dropped)) != keys.end()) groups.erase(g);
    }
    write_manifest();
    expect_problems({"manifest.json: the duplicates section was edited",
                     "as a duplicate, but no duplicates group names it"});
}

TEST_F(VerifyClaims, ARemovedLeakGroupIsNamed) {
    manifest_["leaks"].erase(0);
    write_manifest();
    expect_problems({"manifest.json: the leaks section was edited"});
}

TEST_F(VerifyClaims, AMeanEditedBeyondTheToleranceIsNamedAndFullRecomputesIt) {
    manifest_["stats"]["mean"][1] =
        manifest_["stats"]["mean"][1].get<double>() + 2 * manifest::kStatsMeanTolerance;
    write_manifest();
    expect_problems({"manifest.json: the stats section was edited",
                     "manifest.json: stats.mean is [", "the stored train pixels give ["},
                    {"--full"});
}

TEST_F(VerifyClaims, AStdEditedBeyondTheToleranceIsNamedAndFullRecomputesIt) {
    manifest_["stats"]["std"][2] =
        manifest_["stats"]["std"][2].get<double>() - 2 * manifest::kStatsStdTolerance;
    write_manifest();
    expect_problems({"manifest.json: the stats section was edited", "manifest.json: stats.std is [",
                     "the stored train pixels give ["},
                    {"--full"});
}

TEST_F(VerifyClaims, AStatsEditWithinTheToleranceIsNamedByItsDigestOnly) {
    manifest_["stats"]["mean"][0] =
        manifest_["stats"]["mean"][0].get<double>() + manifest::kStatsMeanTolerance / 10;
    write_manifest();
    const ProcessResult result = verify({"--full"});
    EXPECT_EQ(result.exit_code, 1) << result.output;
    EXPECT_NE(result.output.find("manifest.json: the stats section was edited"), std::string::npos)
        << result.output;
    EXPECT_EQ(result.output.find("stats.mean is"), std::string::npos) << result.output;
}

TEST_F(VerifyClaims, AnEditedResizeIsNamedAndContradictsTheStoredSizes) {
    manifest_["options"]["resize"] = "shorter:64";
    write_manifest();
    expect_problems(
        {"manifest.json: the options section was edited", "but --resize shorter:64 makes"});
}

TEST_F(VerifyClaims, AnEditedSeedIsNamed) {
    manifest_["seed"] = 4;
    write_manifest();
    expect_problems(
        {"manifest.json: the seed section was edited", "manifest.json: options.seed is 3, seed 4"});
}

TEST_F(VerifyClaims, AnEditedFingerprintIsNamed) {
    manifest_["input_fingerprint"] = std::string(64, '0');
    write_manifest();
    expect_problems({"manifest.json: the input_fingerprint section was edited"});
}

TEST_F(VerifyClaims, EditedClassWordsAreNamed) {
    manifest_["classes"][1]["words"] = "canine";
    write_manifest();
    expect_problems(
        {"manifest.json: the classes section was edited",
         "index.h5: class 1 is " + manifest_["classes"][1]["synset"].get<std::string>()});
}

TEST_F(VerifyClaims, AnEditedClassDescriptionInIndexIsNamed) {
    rewrite_strings(out() / "index.h5", "classes/glosses", [](std::vector<std::string>& glosses) {
        glosses[0] = "a made-up description";
    });
    expect_problems({"index.h5: sha256", "differs from the manifest's",
                     "index.h5: class 0 (" + manifest_["classes"][0]["synset"].get<std::string>() +
                         "): its hierarchy node"});
}

TEST_F(VerifyClaims, AnEditedHierarchyNameInIndexIsNamed) {
    bool edited = false;
    rewrite_strings(out() / "index.h5", "hierarchy/words", [&](std::vector<std::string>& words) {
        for (auto& word : words) {
            if (const auto at = word.find("feline"); at != std::string::npos) {
                word.replace(at, 6, "canine");
                edited = true;
            }
        }
    });
    ASSERT_TRUE(edited) << "no feline among the synth corpus's hierarchy";
    expect_problems({"index.h5: sha256", "differs from the manifest's"});
}

TEST_F(VerifyClaims, AStrayShardCopyIsNamedWhereverItLies) {
    const auto& shards = manifest_["splits"]["train"]["shards"];
    const fs::path first = out() / shards[0]["path"].get<std::string>();
    const std::string count = std::to_string(shards.size());
    const std::string stray =
        "train/train-00009-of-" + std::string(5 - count.size(), '0') + count + ".h5";
    fs::copy_file(first, out() / stray);
    fs::copy_file(first, out() / "copy.h5");
    expect_problems({stray + ": not listed in the manifest", "copy.h5: synshard did not write"});
}

TEST_F(VerifyClaims, ExpectManifestComparesEveryShardWithTheReference) {
    Json expected = manifest_;
    const std::string path = expected["splits"]["val"]["shards"][0]["path"];
    expected["splits"]["val"]["shards"][0]["sha256"] = std::string(64, 'f');
    const fs::path file = work_.path() / "expected.json";
    std::ofstream(file) << expected.dump(2) << "\n";
    const ProcessResult same =
        verify({"--expect-manifest", (reference() / "manifest.json").string()});
    EXPECT_EQ(same.exit_code, 0) << same.output;
    expect_problems(
        {path + ": sha256 " + manifest_["splits"]["val"]["shards"][0]["sha256"].get<std::string>() +
         ", the reference " + file.string() + " has " + std::string(64, 'f')},
        {"--expect-manifest", file.string()});
}

// Sets an HDF5 output file's @format_version, as another synshard would have written it.
void set_format_version(const fs::path& file, std::int64_t version) {
    const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hid_t attribute = H5Aopen(f, h5::attribute::kFormatVersion, H5P_DEFAULT);
    ASSERT_GE(attribute, 0);
    ASSERT_GE(H5Awrite(attribute, H5T_NATIVE_INT64, &version), 0);
    H5Aclose(attribute);
    ASSERT_GE(H5Fclose(f), 0);
}

// Records a rewritten file's size and sha256 where `entry` (a shard or "index") lists it.
void record_file(Json& entry, const fs::path& file) {
    entry["bytes"] = fs::file_size(file);
    entry["sha256"] = to_hex(h5::sha256_of_file(file));
}

// Sets @format_version in the shards (all, or the first train shard) and index.h5, and
// records them in manifest_ with every section digest, as that writer would have.
void set_output_version(Json& manifest, const fs::path& out, std::int64_t version,
                        bool first_shard_only = false) {
    for (auto& [split, entry] : manifest["splits"].items()) {
        for (auto& shard : entry["shards"]) {
            if (first_shard_only && &shard != &manifest["splits"]["train"]["shards"][0]) continue;
            set_format_version(out / shard["path"].get<std::string>(), version);
            record_file(shard, out / shard["path"].get<std::string>());
        }
    }
    if (!first_shard_only) {
        set_format_version(out / h5::kIndexFileName, version);
        record_file(manifest["index"], out / h5::kIndexFileName);
        manifest["format_version"] = version;
    }
    for (auto& [key, value] : manifest.items()) {
        if (key != manifest::kDigestsKey)
            manifest[manifest::kDigestsKey][key] = manifest::section_digest(value);
    }
}

// Version 2 (before issue 17: VOC-rule boxes, no box_origin) is still read and verified.
TEST_F(VerifyClaims, AVersionTwoOutputPasses) {
    manifest_.erase("box_origin");
    manifest_[manifest::kDigestsKey].erase("box_origin");
    set_output_version(manifest_, out(), 2);
    write_manifest();
    const ProcessResult result = verify({"--full"});
    EXPECT_EQ(result.exit_code, 0) << result.output;
}

TEST_F(VerifyClaims, AShardOfAnotherFormatVersionThanTheManifestIsNamed) {
    set_output_version(manifest_, out(), 2, true);
    write_manifest();
    expect_problems({manifest_["splits"]["train"]["shards"][0]["path"].get<std::string>() +
                     ": format_version is 2, expected 3"});
}

TEST_F(VerifyClaims, AFormatVersionThisSynshardDoesNotKnowIsNamed) {
    set_output_version(manifest_, out(), 4);
    write_manifest();
    expect_problems({"manifest.json: format_version 4 is not one this synshard reads (2, 3)"});
}

TEST_F(VerifyClaims, AnUnreadableManifestIsAProblemNotACrash) {
    std::ofstream(out() / manifest::kManifestFileName, std::ios::trunc) << "{\"splits\": ";
    expect_problems({"manifest.json:", "not valid JSON"});
}

}  // namespace
}  // namespace synshard::testing
