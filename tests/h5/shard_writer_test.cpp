#include "synshard/h5/shard_writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "sample_output/sample_output.hpp"
#include "support/test_support.hpp"
#include "synshard/h5/h5.hpp"
#include "synshard/reader/shard_reader.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::h5 {
namespace {

using synshard::testing::make_samples;
using synshard::testing::sample_class_table;

ShardSpec encoded_spec(const std::filesystem::path& out) {
    ShardSpec spec;
    spec.output_dir = out;
    spec.split = "train";
    spec.shard_index = 1;
    spec.shard_count = 3;
    spec.encoding = "jpeg";
    spec.label_scheme = "alphabetical";
    return spec;
}

PublishedShard write_shard(const ShardSpec& spec, const std::vector<SampleRow>& samples) {
    ShardWriter writer(spec, sample_class_table());
    for (const SampleRow& sample : samples) writer.add(sample.view());
    return writer.finish();
}

void expect_same_sample(const SampleRow& read, const SampleRow& written) {
    EXPECT_EQ(read.key, written.key);
    EXPECT_EQ(read.synset, written.synset);
    EXPECT_EQ(read.label, written.label);
    EXPECT_EQ(read.image, written.image) << written.key;
    EXPECT_EQ(read.source_height, written.source_height);
    EXPECT_EQ(read.source_width, written.source_width);
    EXPECT_EQ(read.height, written.height);
    EXPECT_EQ(read.width, written.width);
    EXPECT_EQ(read.source_sha256, written.source_sha256);
    EXPECT_EQ(read.boxes, written.boxes);
    EXPECT_EQ(read.box_labels, written.box_labels);
}

TEST(ShardWriter, EncodedRoundTripOfEveryDatasetAndAttribute) {
    testing::TempDir dir;
    // Large enough images that the data spans several chunks, one image crossing two.
    const std::vector<SampleRow> samples = make_samples("train", 7, false, 256);
    const PublishedShard published = write_shard(encoded_spec(dir.path()), samples);
    EXPECT_EQ(published.path, dir / "train" / "train-00001-of-00003.h5");
    EXPECT_EQ(published.relative_path, "train/train-00001-of-00003.h5");
    EXPECT_EQ(published.num_samples, 7U);
    EXPECT_EQ(published.bytes, std::filesystem::file_size(published.path));
    EXPECT_EQ(published.sha256, sha256(read_file(published.path)));
    EXPECT_FALSE(std::filesystem::exists(temporary_path_for(published.path)));

    std::size_t payload = 0;
    for (const SampleRow& sample : samples) payload += sample.image.size();
    ASSERT_GT(payload, 2 * ShardWriter::kImageChunkBytes);

    const reader::ShardReader shard(published.path);
    const reader::ShardAttributes& attributes = shard.attributes();
    EXPECT_EQ(attributes.format_version, kFormatVersion);
    EXPECT_EQ(attributes.split, "train");
    EXPECT_EQ(attributes.shard_index, 1);
    EXPECT_EQ(attributes.shard_count, 3);
    EXPECT_EQ(attributes.num_samples, 7U);
    EXPECT_EQ(attributes.encoding, "jpeg");
    EXPECT_EQ(attributes.label_scheme, "alphabetical");
    EXPECT_FALSE(shard.is_raw());
    for (std::size_t row = 0; row < samples.size(); ++row) {
        expect_same_sample(shard.read(row), samples[row]);
    }
    EXPECT_EQ(shard.read_class_table().classes.size(), 3U);
    ClassTable without_glosses = sample_class_table();
    for (ClassEntry& entry : without_glosses.classes) entry.gloss.clear();
    EXPECT_EQ(shard.read_class_table(), without_glosses);
    EXPECT_THROW(shard.read(7), Error);
}

std::uint64_t image_bytes_of(const std::vector<SampleRow>& samples) {
    std::uint64_t total = 0;
    for (const SampleRow& sample : samples) total += sample.image.size();
    return total;
}

TEST(ShardWriter, ImageChunkSizeIsTheFewestEqualChunks) {
    constexpr std::uint64_t kMost = ShardWriter::kImageChunkBytes;
    EXPECT_EQ(ShardWriter::image_chunk_bytes(0), kMost);
    for (const std::uint64_t total :
         {std::uint64_t{1}, std::uint64_t{1000}, kMost - 1, kMost, kMost + 1, 2 * kMost,
          2 * kMost + 1, std::uint64_t{34243599}, std::uint64_t{1} << 40}) {
        const std::uint64_t chunk = ShardWriter::image_chunk_bytes(total);
        const std::uint64_t chunks = (total + chunk - 1) / chunk;
        EXPECT_LE(chunk, kMost) << total;
        EXPECT_EQ(chunks, (total + kMost - 1) / kMost) << total;
        EXPECT_LT(chunks * chunk - total, chunks) << total;  // padding of the last chunk
    }
}

// What HDF5 stores for image_bytes: every chunk with its 4-byte Fletcher32 checksum.
hsize_t stored_image_bytes(const std::filesystem::path& shard) {
    const File file = File::open_read_only(shard);
    const Dataset images = file.open_dataset(column::kImageBytes);
    return H5Dget_storage_size(images.id());
}

TEST(ShardWriter, AnnouncedImageBytesLeaveTheLastChunkFull) {
    testing::TempDir dir;
    const std::vector<SampleRow> samples = make_samples("train", 7, false, 256);
    const std::uint64_t total = image_bytes_of(samples);
    ShardSpec spec = encoded_spec(dir.path());
    spec.image_bytes = total;
    const PublishedShard published = write_shard(spec, samples);
    const std::uint64_t chunk = ShardWriter::image_chunk_bytes(total);
    const std::uint64_t chunks = (total + chunk - 1) / chunk;
    ASSERT_GE(chunks, 3U);
    {
        const File file = File::open_read_only(published.path);
        const Dataset images = file.open_dataset(column::kImageBytes);
        EXPECT_EQ(images.chunk_dims(), (std::vector<hsize_t>{chunk}));
        EXPECT_EQ(images.dims(), (std::vector<hsize_t>{total}));
    }
    const hsize_t stored = stored_image_bytes(published.path);
    EXPECT_GE(stored, total + 4 * chunks);
    EXPECT_LT(stored, total + 5 * chunks);  // under one byte of padding per chunk

    const reader::ShardReader shard(published.path);
    EXPECT_EQ(shard.scan_image_data(), total);
    for (std::size_t row = 0; row < samples.size(); ++row) {
        expect_same_sample(shard.read(row), samples[row]);
    }

    // Unannounced, the chunks are 64 KiB and the last one is stored whole.
    testing::TempDir plain;
    const PublishedShard unannounced = write_shard(encoded_spec(plain.path()), samples);
    constexpr std::uint64_t kMost = ShardWriter::kImageChunkBytes;
    EXPECT_EQ(stored_image_bytes(unannounced.path), (total + kMost - 1) / kMost * (kMost + 4));
    EXPECT_LT(published.bytes, unannounced.bytes);
}

TEST(ShardWriter, ImageBytesOtherThanAnnouncedAreAnErrorAndPublishNothing) {
    testing::TempDir dir;
    const std::vector<SampleRow> samples = make_samples("train", 3, false, 64);
    ShardSpec spec = encoded_spec(dir.path());
    spec.image_bytes = image_bytes_of(samples) + 1;
    ShardWriter writer(spec, sample_class_table());
    for (const SampleRow& sample : samples) writer.add(sample.view());
    try {
        writer.finish();
        FAIL() << "expected an Error";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("announced"), std::string::npos) << error.what();
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "train" / "train-00001-of-00003.h5"));
}

TEST(ShardWriter, KeysAreFixedLengthUtf8AsLongAsTheLongestKey) {
    testing::TempDir dir;
    const std::vector<SampleRow> samples = make_samples("train", 4, false, 32);
    const PublishedShard published = write_shard(encoded_spec(dir.path()), samples);
    std::size_t longest = 0;
    for (const SampleRow& sample : samples) longest = std::max(longest, sample.key.size());
    const File file = File::open_read_only(published.path);
    const Dataset keys = file.open_dataset(column::kKeys);
    const Datatype type = keys.type();
    EXPECT_EQ(H5Tis_variable_str(type.id()), 0);
    EXPECT_EQ(H5Tget_cset(type.id()), H5T_CSET_UTF8);
    EXPECT_EQ(type.size(), longest);
    std::vector<std::string> expected;
    for (const SampleRow& sample : samples) expected.push_back(sample.key);
    EXPECT_EQ(keys.read_strings(), expected);  // one of them is not ASCII
}

TEST(ShardWriter, SameInputsGiveByteIdenticalFiles) {
    testing::TempDir first;
    testing::TempDir second;
    const std::vector<SampleRow> samples = make_samples("train", 9, false, 120);
    const PublishedShard a = write_shard(encoded_spec(first.path()), samples);
    const PublishedShard b = write_shard(encoded_spec(second.path()), samples);
    EXPECT_EQ(to_hex(a.sha256), to_hex(b.sha256));
    EXPECT_EQ(read_file(a.path), read_file(b.path));
    // A different order of the same samples is a different shard.
    std::vector<SampleRow> reordered = samples;
    std::swap(reordered[0], reordered[1]);
    testing::TempDir third;
    EXPECT_NE(write_shard(encoded_spec(third.path()), reordered).sha256, a.sha256);
}

TEST(ShardWriter, SeparateProcessesWriteIdenticalBytesWhateverTheirHeapContents) {
    // MALLOC_PERTURB_ fills malloc'd and freed memory with a pattern: any uninitialised
    // buffer reaching the file would make the two outputs differ.
    testing::TempDir dir;
    const std::string writer = SYNSHARD_SAMPLE_WRITER;
    for (const char* mode : {"", " raw"}) {
        const auto first =
            testing::run_shell("MALLOC_PERTURB_=0 " + writer + " " + (dir / "a").string() + mode);
        const auto second =
            testing::run_shell("MALLOC_PERTURB_=165 " + writer + " " + (dir / "b").string() + mode);
        ASSERT_EQ(first.exit_code, 0) << first.output;
        ASSERT_EQ(second.exit_code, 0) << second.output;
        for (const char* file : {"train/train-00000-of-00002.h5", "train/train-00001-of-00002.h5",
                                 "val/val-00000-of-00001.h5", "index.h5"}) {
            EXPECT_EQ(read_file(dir / "a" / file), read_file(dir / "b" / file)) << file << mode;
        }
        std::filesystem::remove_all(dir / "a");
        std::filesystem::remove_all(dir / "b");
    }
}

// Object headers that HDF5 creates itself (a superblock extension, e.g. for a non-default
// H5Pset_istore_k) record the time whatever H5Pset_obj_track_times says; two runs then
// differ whenever a second passes between them, which the heap test above rarely sees.
// A version 2 object header ("OHDR", 2, flags) stores times when flag bit 5 is set.
TEST(ShardWriter, NoObjectHeaderRecordsATime) {
    testing::TempDir dir;
    for (const bool raw : {false, true}) {
        synshard::testing::write_sample_output(dir / (raw ? "raw" : "encoded"), raw);
        for (const char* file :
             {"train/train-00000-of-00002.h5", "val/val-00000-of-00001.h5", "index.h5"}) {
            const std::vector<std::uint8_t> bytes =
                read_file(dir / (raw ? "raw" : "encoded") / file);
            const std::string_view signature = "OHDR";
            std::size_t headers = 0;
            for (auto at = bytes.begin(); (at = std::search(at, bytes.end(), signature.begin(),
                                                            signature.end())) != bytes.end();
                 ++at) {
                if (bytes.end() - at < 6 || at[4] != 2) continue;
                ++headers;
                EXPECT_EQ(at[5] & 0x20, 0) << file << " at " << (at - bytes.begin());
            }
            EXPECT_GE(headers, 10U) << file;  // the root group and the datasets at least
        }
    }
}

TEST(ShardWriter, Fletcher32DetectsAFlippedImageByte) {
    testing::TempDir dir;
    const std::vector<SampleRow> samples = make_samples("train", 3, false, 96);
    const PublishedShard published = write_shard(encoded_spec(dir.path()), samples);
    std::vector<std::uint8_t> bytes = read_file(published.path);
    // Find sample 1's image data in the file and flip one byte in the middle of it.
    const std::vector<std::uint8_t>& image = samples[1].image;
    const auto needle_begin = image.begin() + static_cast<std::ptrdiff_t>(image.size() / 2);
    const auto found = std::search(bytes.begin(), bytes.end(), needle_begin, needle_begin + 32);
    ASSERT_NE(found, bytes.end());
    *found ^= 0x10;
    {
        std::ofstream out(published.path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
    }
    const reader::ShardReader shard(published.path);  // metadata is intact
    try {
        shard.read(1);
        FAIL() << "expected a checksum error";
    } catch (const Error& error) {
        const std::string text = error.what();
        EXPECT_NE(text.find("Fletcher32"), std::string::npos) << text;
        EXPECT_NE(text.find(published.path.string() + ":/image_bytes"), std::string::npos) << text;
    }
}

TEST(ShardWriter, EmptyShardIsValid) {
    testing::TempDir dir;
    const PublishedShard published = write_shard(encoded_spec(dir.path()), {});
    EXPECT_EQ(published.num_samples, 0U);
    const reader::ShardReader shard(published.path);
    EXPECT_EQ(shard.num_samples(), 0U);
    EXPECT_EQ(shard.read_class_table().classes.size(), 3U);
    EXPECT_THROW(shard.read(0), Error);
}

TEST(ShardWriter, RawImagesRoundTrip) {
    testing::TempDir dir;
    ShardSpec spec = encoded_spec(dir.path());
    spec.encoding = std::string(kRawEncoding);
    spec.raw_height = synshard::testing::kRawHeight;
    spec.raw_width = synshard::testing::kRawWidth;
    const std::vector<SampleRow> samples = make_samples("train", 5, true);
    const PublishedShard published = write_shard(spec, samples);
    const reader::ShardReader shard(published.path);
    EXPECT_TRUE(shard.is_raw());
    EXPECT_EQ(shard.raw_geometry(),
              std::make_pair(synshard::testing::kRawHeight, synshard::testing::kRawWidth));
    for (std::size_t row = 0; row < samples.size(); ++row) {
        expect_same_sample(shard.read(row), samples[row]);
    }
}

TEST(ShardWriter, RejectsSamplesThatDoNotFitAndWritesNothingUnfinished) {
    testing::TempDir dir;
    const ShardSpec spec = encoded_spec(dir.path());
    const auto temporary = temporary_path_for(dir / "train" / "train-00001-of-00003.h5");
    {
        ShardWriter writer(spec, sample_class_table());
        SampleRow sample = make_samples("train", 1, false).front();
        sample.label = 3;
        EXPECT_THROW(writer.add(sample.view()), Error);
        sample.label = 0;
        sample.synset = "n0144";
        EXPECT_THROW(writer.add(sample.view()), Error);
        sample.synset = "n01440764";
        sample.box_labels.push_back(0);
        try {
            writer.add(sample.view());
            FAIL() << "expected an Error";
        } catch (const Error& error) {
            EXPECT_NE(std::string(error.what()).find(sample.key), std::string::npos);
        }
    }
    EXPECT_FALSE(std::filesystem::exists(temporary));
    EXPECT_FALSE(std::filesystem::exists(dir / "train" / "train-00001-of-00003.h5"));

    ShardSpec raw = spec;
    raw.encoding = std::string(kRawEncoding);
    EXPECT_THROW(ShardWriter(raw, sample_class_table()), Error);  // no geometry
    raw.raw_height = 4;
    raw.raw_width = 4;
    ShardWriter writer(raw, sample_class_table());
    EXPECT_THROW(writer.add(make_samples("train", 1, false).front().view()), Error);
    ShardSpec bad_index = spec;
    bad_index.shard_index = 3;
    EXPECT_THROW(ShardWriter(bad_index, sample_class_table()), Error);
}

}  // namespace
}  // namespace synshard::h5
