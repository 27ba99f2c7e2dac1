#include "synshard/convert/record.hpp"

#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "synshard/util/error.hpp"

namespace synshard::convert {
namespace {

ImageRecord sample_record(int seed) {
    ImageRecord record;
    h5::SampleRow& sample = record.sample;
    sample.key = "n01440764/n01440764_" + std::to_string(seed) + ".JPEG";
    sample.synset = "n01440764";
    sample.label = seed;
    record.split = seed % 2 == 1 ? corpus::Split::val : corpus::Split::train;
    record.hash = keyed_hash(7, sample.key);
    sample.source_sha256 = sha256(
        std::span(reinterpret_cast<const std::uint8_t*>(sample.key.data()), sample.key.size()));
    sample.source_height = 375;
    sample.source_width = 500;
    sample.height = 256;
    sample.width = 341;
    sample.boxes = {{1.5F, 2, 100, 200}, {0, 0, 341, 256}};
    sample.box_labels = {seed, -1};
    sample.image.assign(static_cast<std::size_t>(1000 + seed), static_cast<std::uint8_t>(seed));
    const auto base = static_cast<std::uint64_t>(seed) << 40;
    record.pixel_sums = {{base + 1, base + 2, base + 3}, {base + 4, base + 5, base + 6}, 87296};
    return record;
}

TEST(Spool, RecordsComeBackExactlyByEntry) {
    testing::TempDir dir;
    Spool spool(dir / "rank-0.spool");
    std::vector<SpoolEntry> entries;
    for (int i = 0; i < 5; ++i) entries.push_back(spool.append(sample_record(i)));
    for (int i = 4; i >= 0; --i)
        EXPECT_EQ(spool.read(entries[static_cast<std::size_t>(i)]), sample_record(i));
    EXPECT_EQ(std::filesystem::file_size(spool.path()),
              entries.back().offset + entries.back().length);
}

TEST(Spool, AppendsRecordsToAMessageAsLengthPrefixedBytes) {
    testing::TempDir dir;
    Spool spool(dir / "rank-0.spool");
    const auto first = spool.append(sample_record(1));
    const auto second = spool.append(sample_record(2));
    ByteWriter message;
    message.put_string("earlier");  // what came before stays
    spool.append_bytes_to(second, message);
    spool.append_bytes_to(first, message);
    ByteReader reader(message.buffer());
    EXPECT_EQ(reader.get_string(), "earlier");
    for (const int expected : {2, 1}) {
        const auto bytes = reader.get_bytes();
        ByteReader record(bytes);
        EXPECT_EQ(read_record(record), sample_record(expected));
        EXPECT_TRUE(record.at_end());
    }
    EXPECT_TRUE(reader.at_end());
}

// The bytes a train and a val record had before ImageRecord held an h5::SampleRow: a
// rerun of an interrupted conversion reads the spools an earlier build wrote.
TEST(Record, EncodesTheBytesEarlierBuildsWroteToSpools) {
    for (const auto& [seed, digest] :
         {std::pair{2, "22b0a2de6a1b0cc0ff42e85c6f45d898a51b2940bd07adf23c9dfd7dfc509d9f"},
          std::pair{3, "a215bde3dd71466fff1e06d6d9e8521c39e44d6993c7b6a1f9bde97e2c2f81e9"}}) {
        ByteWriter writer;
        write_record(writer, sample_record(seed));
        EXPECT_EQ(to_hex(sha256(writer.buffer())), digest) << "seed " << seed;
    }
}

TEST(Record, ATornRecordIsAnErrorNotGarbage) {
    ByteWriter writer;
    write_record(writer, sample_record(3));
    auto bytes = writer.buffer();
    bytes.resize(bytes.size() - 10);
    ByteReader reader(bytes);
    EXPECT_THROW(read_record(reader), Error);
}

}  // namespace
}  // namespace synshard::convert
