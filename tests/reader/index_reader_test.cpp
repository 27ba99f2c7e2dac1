#include "synshard/reader/index_reader.hpp"

#include <gtest/gtest.h>

#include <cstdio>

#include "sample_output/sample_output.hpp"
#include "support/test_support.hpp"
#include "synshard/h5/h5.hpp"
#include "synshard/reader/shard_reader.hpp"
#include "synshard/util/error.hpp"

namespace synshard::reader {
namespace {

using synshard::testing::write_sample_output;

TEST(IndexReader, EveryKeyLeadsToItsRow) {
    testing::TempDir dir;
    const auto output = write_sample_output(dir.path(), false);
    const IndexReader index(dir / h5::kIndexFileName);
    EXPECT_EQ(index.encoding(), "source");
    EXPECT_EQ(index.label_scheme(), "alphabetical");
    EXPECT_EQ(index.splits(), (std::vector<std::string>{"train", "val"}));
    EXPECT_EQ(index.num_samples("train"), static_cast<std::uint64_t>(testing::kTrainSamples));
    EXPECT_EQ(index.num_samples("val"), static_cast<std::uint64_t>(testing::kValSamples));
    EXPECT_EQ(index.shard_paths("train"),
              (std::vector<std::string>{"train/train-00000-of-00002.h5",
                                        "train/train-00001-of-00002.h5"}));
    EXPECT_EQ(index.shard_num_samples("train"), (std::vector<std::uint64_t>{6, 5}));
    std::size_t found = 0;
    for (const h5::SplitIndex& split : output.index.splits) {
        for (std::size_t i = 0; i < split.keys.size(); ++i) {
            const h5::KeyLocation location = split.keys[i];
            const std::optional<Located> located = index.locate(location.key);
            ASSERT_TRUE(located.has_value()) << location.key;
            EXPECT_EQ(located->split, split.name);
            EXPECT_EQ(located->shard, location.shard);
            EXPECT_EQ(located->row, location.row);
            const ShardReader shard(dir / located->shard_path);
            EXPECT_EQ(shard.read(located->row).key, location.key);
            ++found;
        }
    }
    EXPECT_EQ(found, static_cast<std::size_t>(testing::kTrainSamples + testing::kValSamples));
    EXPECT_FALSE(index.locate("n01440764_missing.JPEG").has_value());
    EXPECT_FALSE(index.locate("").has_value());
    EXPECT_FALSE(index.locate("zzzz").has_value());
}

TEST(IndexReader, ClassTableAndHierarchyRoundTrip) {
    testing::TempDir dir;
    write_sample_output(dir.path(), false);
    const IndexReader index(dir / h5::kIndexFileName);
    EXPECT_EQ(index.read_class_table(), testing::sample_class_table());
    EXPECT_EQ(index.read_hierarchy(), testing::sample_hierarchy());
}

TEST(IndexReader, RawOutputHasVirtualDatasetsAcrossShards) {
    testing::TempDir dir;
    const auto output = write_sample_output(dir.path(), true);
    const h5::File index = h5::File::open_read_only(dir / h5::kIndexFileName);
    const h5::Group train = index.open_group(h5::group::kSplits).open_group("train");
    const std::vector<std::uint8_t> images =
        train.open_dataset(h5::column::kImages).read<std::uint8_t>();
    const std::vector<std::int32_t> labels =
        train.open_dataset(h5::column::kLabels).read<std::int32_t>();
    EXPECT_EQ(
        train.open_dataset(h5::column::kImages).dims(),
        (std::vector<hsize_t>{testing::kTrainSamples, testing::kRawHeight, testing::kRawWidth, 3}));
    // Virtual row r is shard 0's rows then shard 1's.
    const ShardReader shard0(dir / "train/train-00000-of-00002.h5");
    const ShardReader shard1(dir / "train/train-00001-of-00002.h5");
    const std::size_t image_size = testing::kRawHeight * testing::kRawWidth * 3;
    std::uint64_t row = 0;
    for (const ShardReader* shard : {&shard0, &shard1}) {
        for (std::uint64_t i = 0; i < shard->num_samples(); ++i, ++row) {
            const h5::SampleRow sample = shard->read(i);
            EXPECT_EQ(labels[row], sample.label);
            EXPECT_TRUE(std::equal(sample.image.begin(), sample.image.end(),
                                   images.begin() + static_cast<std::ptrdiff_t>(row * image_size)));
        }
    }
    EXPECT_EQ(row, static_cast<std::uint64_t>(testing::kTrainSamples));
}

// A JPEG index with the sample class table and hierarchy, and no splits yet.
h5::IndexContents jpeg_index_without_splits() {
    h5::IndexContents contents;
    contents.encoding = "jpeg";
    contents.classes = testing::sample_class_table();
    contents.hierarchy = testing::sample_hierarchy();
    return contents;
}

TEST(IndexWriter, KeysAreFixedLengthInEqualChunksThatFitTheCache) {
    testing::TempDir dir;
    h5::IndexContents contents = jpeg_index_without_splits();
    constexpr std::uint32_t kRows = 20000;
    h5::SplitIndex split{"train", {kRows / 2, kRows / 2}, {}};
    const std::string long_key = "k20000" + std::string(94, 'x');  // 100 bytes, sorts last
    for (std::uint32_t i = 0; i < kRows; ++i) {
        char key[16];
        std::snprintf(key, sizeof key, "k%05u", i);
        split.keys.push_back(i + 1 < kRows ? key : long_key, i % 2, i / 2);
    }
    contents.splits.push_back(split);
    h5::write_index(dir.path(), contents);

    const h5::File file = h5::File::open_read_only(dir / h5::kIndexFileName);
    const h5::Group train = file.open_group(h5::group::kSplits).open_group("train");
    const h5::Dataset keys = train.open_dataset(h5::column::kKeys);
    const h5::Datatype type = keys.type();
    EXPECT_EQ(H5Tis_variable_str(type.id()), 0);
    EXPECT_EQ(type.size(), long_key.size());
    // At most 512 KiB per chunk: 5242 rows of 100 bytes, so 4 equal chunks of 5000 rows.
    EXPECT_EQ(keys.chunk_dims(), (std::vector<hsize_t>{5000}));
    // At most 16384 rows: 2 equal chunks of 10000 rows.
    EXPECT_EQ(train.open_dataset(h5::split_table::kKeyShards).chunk_dims(),
              (std::vector<hsize_t>{10000}));
    EXPECT_EQ(train.open_dataset(h5::split_table::kKeyRows).chunk_dims(),
              (std::vector<hsize_t>{10000}));

    const IndexReader index(dir / h5::kIndexFileName);
    EXPECT_EQ(index.locate("k00000"), (Located{"train", 0, 0, "train/train-00000-of-00002.h5"}));
    EXPECT_EQ(index.locate("k12345"), (Located{"train", 1, 6172, "train/train-00001-of-00002.h5"}));
    EXPECT_EQ(index.locate(long_key),
              (Located{"train", 1, kRows / 2 - 1, "train/train-00001-of-00002.h5"}));
    EXPECT_FALSE(index.locate("k19999").has_value());
    EXPECT_EQ(index.read_keys("train").size(), kRows);
}

TEST(IndexWriter, RejectsInconsistentContents) {
    testing::TempDir dir;
    h5::IndexContents contents = jpeg_index_without_splits();
    contents.splits.push_back(h5::SplitIndex{"train", {2}, {{"a", 0, 0}, {"a", 0, 1}}});
    EXPECT_THROW(h5::write_index(dir.path(), contents), Error);  // duplicate key
    contents.splits.front().keys = {{"a", 0, 0}, {"b", 0, 2}};
    EXPECT_THROW(h5::write_index(dir.path(), contents), Error);  // row out of range
    contents.splits.front().keys = {{"a", 0, 0}};
    EXPECT_THROW(h5::write_index(dir.path(), contents), Error);  // count mismatch
    contents.splits.front().keys = {{"b", 0, 1}, {"a", 0, 0}};
    contents.hierarchy.class_nodes = {0, 1};
    EXPECT_THROW(h5::write_index(dir.path(), contents), Error);  // class nodes
    EXPECT_FALSE(std::filesystem::exists(dir / h5::kIndexFileName));
    EXPECT_FALSE(std::filesystem::exists(dir / "index.h5.tmp"));
    contents.hierarchy = testing::sample_hierarchy();
    contents.encoding = std::string(h5::kRawEncoding);
    contents.raw_height = 2;
    contents.raw_width = 3;
    contents.splits.push_back(h5::SplitIndex{"val", {0}, {}});  // an empty split
    h5::write_index(dir.path(), contents);
    const IndexReader index(dir / h5::kIndexFileName);
    EXPECT_EQ(index.locate("a"), (Located{"train", 0, 0, "train/train-00000-of-00001.h5"}));
    EXPECT_EQ(index.locate("b"), (Located{"train", 0, 1, "train/train-00000-of-00001.h5"}));
    EXPECT_EQ(index.num_samples("val"), 0U);
    const h5::File file = h5::File::open_read_only(dir / h5::kIndexFileName);
    EXPECT_EQ(file.open_group(h5::group::kSplits)
                  .open_group("val")
                  .open_dataset(h5::column::kImages)
                  .dims(),
              (std::vector<hsize_t>{0, 2, 3, 3}));
}

}  // namespace
}  // namespace synshard::reader
