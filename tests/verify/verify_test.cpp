#include "synshard/verify/verify.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <fstream>

#include "sample_output/sample_output.hpp"
#include "support/test_support.hpp"
#include "verify/corrupt.hpp"

namespace synshard::verify {
namespace {

using synshard::testing::write_sample_output;

constexpr const char* kTrain0 = "train/train-00000-of-00002.h5";
constexpr const char* kVal0 = "val/val-00000-of-00001.h5";

Report run_verify(const std::filesystem::path& out, bool full = false, std::uint64_t sample = 16) {
    const mpi::Comm comm;
    return verify(VerifyOptions{out, full, sample, {}}, comm);
}

// The problems about one file, as "what" strings.
std::vector<std::string> problems_of(const Report& report, const std::string& file) {
    std::vector<std::string> found;
    for (const auto& problem : report.problems) {
        if (problem.file == file) found.push_back(problem.what);
    }
    return found;
}

bool any_contains(const std::vector<std::string>& texts, const std::string& needle) {
    return std::any_of(texts.begin(), texts.end(), [&](const std::string& text) {
        return text.find(needle) != std::string::npos;
    });
}

std::string listing(const Report& report) {
    return describe(report);
}

// Overwrites element `index` of a 1-D or flattened dataset in place (bypassing the
// writer's validation, as a bug or a hand edit would).
template <class T>
void poke(const std::filesystem::path& file, const char* dataset, hsize_t index, T value,
          hid_t memory_type) {
    const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hid_t d = H5Dopen2(f, dataset, H5P_DEFAULT);
    ASSERT_GE(d, 0);
    const hid_t space = H5Dget_space(d);
    std::vector<hsize_t> dims(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    std::vector<hsize_t> start(dims.size(), 0);
    std::vector<hsize_t> count(dims.size(), 1);
    // Row-major flat index -> coordinates.
    for (std::size_t axis = dims.size(); axis-- > 0;) {
        start[axis] = index % dims[axis];
        index /= dims[axis];
    }
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    const hsize_t one = 1;
    const hid_t memory = H5Screate_simple(1, &one, nullptr);
    EXPECT_GE(H5Dwrite(d, memory_type, memory, space, H5P_DEFAULT, &value), 0);
    H5Sclose(memory);
    H5Sclose(space);
    H5Dclose(d);
    EXPECT_GE(H5Fclose(f), 0);
}

TEST(Verify, SampleOutputHasNoProblems) {
    testing::TempDir dir;
    write_sample_output(dir.path(), false);
    const Report report = run_verify(dir.path(), true);
    EXPECT_TRUE(report.ok()) << listing(report);
    EXPECT_EQ(report.shards, 3u);
    EXPECT_EQ(report.samples,
              static_cast<std::uint64_t>(testing::kTrainSamples + testing::kValSamples));
    EXPECT_EQ(report.images_decoded, report.samples);
    std::uint64_t bytes = 0;
    for (const char* shard : {kTrain0, "train/train-00001-of-00002.h5", kVal0})
        bytes += std::filesystem::file_size(dir / shard);
    EXPECT_EQ(report.bytes, bytes);
    EXPECT_NE(describe(report).find("no problems"), std::string::npos);
    EXPECT_EQ(to_json(report)["ok"], true);
}

TEST(Verify, SampleDecodesOnlyThatManyImagesPerShard) {
    testing::TempDir dir;
    write_sample_output(dir.path(), false);
    EXPECT_EQ(run_verify(dir.path(), false, 2).images_decoded, 6u);
    EXPECT_EQ(run_verify(dir.path(), false, 0).images_decoded, 0u);
    // More than a shard holds: each image once.
    EXPECT_EQ(run_verify(dir.path(), false, 100).images_decoded,
              static_cast<std::uint64_t>(testing::kTrainSamples + testing::kValSamples));
}

TEST(Verify, RawOutputHasNoProblems) {
    testing::TempDir dir;
    write_sample_output(dir.path(), true);
    const Report report = run_verify(dir.path(), true);
    EXPECT_TRUE(report.ok()) << listing(report);
    EXPECT_EQ(report.images_decoded, 0u);
}

TEST(Verify, FlippedImageByteIsCaughtBySha256AndFletcher32) {
    testing::TempDir dir;
    write_sample_output(dir.path(), false);
    testing::flip_image_byte(dir / kTrain0, 2);
    const Report report = run_verify(dir.path());
    EXPECT_FALSE(report.ok());
    const auto problems = problems_of(report, kTrain0);
    EXPECT_TRUE(any_contains(problems, "differs from the manifest's")) << listing(report);
    // HDF5's read of the damaged chunk fails its checksum.
    EXPECT_TRUE(any_contains(problems, "Fletcher32") || any_contains(problems, "checksum"))
        << listing(report);
    EXPECT_TRUE(problems_of(report, kVal0).empty()) << listing(report);
    EXPECT_NE(describe(report).find(kTrain0), std::string::npos);
}

TEST(Verify, MissingShardAndStrayTemporaryFileAreProblems) {
    testing::TempDir dir;
    write_sample_output(dir.path(), false);
    std::filesystem::rename(dir / kVal0, dir / "val/val-00000-of-00001.h5.tmp");
    const Report report = run_verify(dir.path());
    EXPECT_TRUE(any_contains(problems_of(report, kVal0), "missing")) << listing(report);
    EXPECT_TRUE(any_contains(problems_of(report, "val/val-00000-of-00001.h5.tmp"),
                             "not listed in the manifest"))
        << listing(report);
}

TEST(Verify, ManifestDisagreeingWithShardsIsAProblem) {
    testing::TempDir dir;
    auto output = write_sample_output(dir.path(), false);
    output.manifest.splits["train"].shards[1].num_samples += 1;
    output.manifest.splits["train"].shards[1].sha256 = std::string(64, '0');
    manifest::write_manifest(dir / manifest::kManifestFileName, output.manifest);
    const Report report = run_verify(dir.path());
    const auto shard = problems_of(report, "train/train-00001-of-00002.h5");
    EXPECT_TRUE(any_contains(shard, "num_samples is 5, expected 6")) << listing(report);
    EXPECT_TRUE(any_contains(shard, "sha256")) << listing(report);
    EXPECT_TRUE(
        any_contains(problems_of(report, manifest::kManifestFileName), "splits.train.num_samples"))
        << listing(report);
    EXPECT_TRUE(any_contains(problems_of(report, h5::kIndexFileName), "shard_num_samples"))
        << listing(report);
}

TEST(Verify, BadLabelsSynsetsBoxesAndKeysAreProblems) {
    testing::TempDir dir;
    write_sample_output(dir.path(), false);
    const auto shard = dir / kTrain0;
    poke<std::int32_t>(shard, h5::column::kLabels, 0, 99, H5T_NATIVE_INT32);
    // Row 1 (sample 2, label 2) keeps its synset but gets label 0.
    poke<std::int32_t>(shard, h5::column::kLabels, 1, 0, H5T_NATIVE_INT32);
    poke<float>(shard, h5::column::kBboxes, 2, 1e6F, H5T_NATIVE_FLOAT);     // box 0's xmax
    poke<std::int32_t>(shard, h5::column::kSizes, 6, 0, H5T_NATIVE_INT32);  // row 3's height
    const Report report = run_verify(dir.path());
    const auto problems = problems_of(report, kTrain0);
    EXPECT_TRUE(any_contains(problems, "row 0 (")) << listing(report);
    EXPECT_TRUE(any_contains(problems, "label 99 outside the class table")) << listing(report);
    EXPECT_TRUE(any_contains(problems, "but label 0 is")) << listing(report);
    EXPECT_TRUE(any_contains(problems, "is not inside its")) << listing(report);
    EXPECT_TRUE(any_contains(problems, "row 3 (") && any_contains(problems, "size not positive"))
        << listing(report);
}

TEST(Verify, IndexPointingAtTheWrongRowIsAProblem) {
    testing::TempDir dir;
    write_sample_output(dir.path(), false);
    // Index entry 0 of train now names row 1 of its shard.
    const hid_t f = H5Fopen((dir / h5::kIndexFileName).c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hid_t d = H5Dopen2(f, "splits/train/key_rows", H5P_DEFAULT);
    std::vector<std::uint32_t> rows(testing::kTrainSamples);
    ASSERT_GE(H5Dread(d, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), 0);
    rows[0] = rows[0] == 0 ? 1 : 0;
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), 0);
    H5Dclose(d);
    ASSERT_GE(H5Fclose(f), 0);
    const Report report = run_verify(dir.path());
    EXPECT_FALSE(report.ok());
    bool named = false;
    for (const auto& problem : report.problems) {
        named |= problem.file.starts_with("train/") &&
                 problem.what.find("index.h5 puts") != std::string::npos;
    }
    EXPECT_TRUE(named) << listing(report);
}

TEST(Verify, UnreadableIndexIsReportedAndShardsAreStillChecked) {
    testing::TempDir dir;
    write_sample_output(dir.path(), false);
    std::ofstream(dir / h5::kIndexFileName, std::ios::trunc) << "not hdf5";
    const Report report = run_verify(dir.path());
    EXPECT_FALSE(problems_of(report, h5::kIndexFileName).empty()) << listing(report);
    EXPECT_EQ(report.shards, 3u);
    EXPECT_EQ(report.problems.size(), 1u) << listing(report);
}

TEST(Verify, EntriesByShardGroupsAndDropsOutOfRange) {
    const std::vector<h5::KeyLocation> keys{{"a", 1, 0}, {"b", 0, 0}, {"c", 1, 1}, {"d", 5, 0}};
    const auto grouped = entries_by_shard(keys, 2);
    ASSERT_EQ(grouped.size(), 2u);
    EXPECT_EQ(grouped[0], (std::vector<h5::KeyLocation>{{"b", 0, 0}}));
    EXPECT_EQ(grouped[1], (std::vector<h5::KeyLocation>{{"a", 1, 0}, {"c", 1, 1}}));
}

TEST(Verify, CommandExitsZeroOnAGoodOutputAndOneNamingTheDamagedShard) {
    testing::TempDir dir;
    write_sample_output(dir.path(), false);
    auto result = testing::run_synshard({"verify", dir.path().string(), "--full"});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("no problems"), std::string::npos) << result.output;
    testing::flip_image_byte(dir / kVal0, 1);
    result = testing::run_synshard(
        {"verify", dir.path().string(), "--json", (dir / "report.json").string()});
    EXPECT_EQ(result.exit_code, 1) << result.output;
    EXPECT_NE(result.output.find(kVal0), std::string::npos) << result.output;
    std::ifstream json(dir / "report.json");
    const auto report = nlohmann::json::parse(json);
    EXPECT_EQ(report["ok"], false);
    EXPECT_EQ(report["problems"][0]["file"], kVal0);
    EXPECT_EQ(testing::run_synshard({"verify", (dir / "nowhere").string()}).exit_code, 2);
}

}  // namespace
}  // namespace synshard::verify
