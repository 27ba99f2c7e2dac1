#include "synshard/convert/record.hpp"

#include <gtest/gtest.h>

#include <fstream>

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
    spool.flush();
    for (int i = 4; i >= 0; --i)
        EXPECT_EQ(spool.read(entries[static_cast<std::size_t>(i)]), sample_record(i));
    // Each record is followed by its 8-byte checksum.
    EXPECT_EQ(std::filesystem::file_size(spool.path()),
              entries.back().offset + entries.back().length + 8);
}

// Records reach the file in whole blocks (kWriteBlock bytes, at multiples of it): written
// one by one, a piece's records cost the page cache a small folio each, and its unlink
// as much again. flush() writes the rest, and only a flushed record is read.
TEST(Spool, WritesWholeBlocksAsTheyFillAndTheRestWhenFlushed) {
    testing::TempDir dir;
    Spool spool(dir / "0-64.spool");
    std::vector<SpoolEntry> entries;
    std::uint64_t end = 0;
    for (int i = 0; end < 2 * Spool::kWriteBlock + Spool::kWriteBlock / 2; ++i) {
        ImageRecord record = sample_record(i % 7);
        record.sample.image.assign(100'000 + static_cast<std::size_t>(i) * 3, 0x5a);
        entries.push_back(spool.append(record));
        end = entries.back().offset + entries.back().length + 8;
        EXPECT_EQ(std::filesystem::file_size(spool.path()),
                  end / Spool::kWriteBlock * Spool::kWriteBlock);
    }
    EXPECT_THROW(spool.read(entries.back()), std::logic_error);
    spool.flush();
    EXPECT_EQ(std::filesystem::file_size(spool.path()), end);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        ImageRecord expected = sample_record(static_cast<int>(i % 7));
        expected.sample.image.assign(100'000 + i * 3, 0x5a);
        EXPECT_EQ(spool.read(entries[i]), expected) << "record " << i;
    }
}

// A rank keeps every spool it wrote open until its shards are written (ImageNet: some
// ten thousand pieces): a flushed spool must hold no memory for its writes.
TEST(Spool, AFlushedSpoolHoldsNoMemoryForWriting) {
    testing::TempDir dir;
    Spool spool(dir / "0-64.spool");
    ImageRecord record = sample_record(1);
    record.sample.image.assign(300'000, 0x5a);
    for (int i = 0; i < 5; ++i) spool.append(record);
    EXPECT_GT(spool.write_buffer_bytes(), 0U);
    spool.flush();
    EXPECT_EQ(spool.write_buffer_bytes(), 0U);
}

// A writer reserved with bytes_appended_for() of each record it will carry (what
// Comm::route does for a message) is filled without moving its buffer: a message is tens
// of megabytes, and one record past the reservation would copy all of it.
TEST(Spool, RecordsReadIntoAReservedWriterNeverMoveItsBuffer) {
    testing::TempDir dir;
    Spool spool(dir / "rank-0.spool");
    std::vector<SpoolEntry> entries;
    std::size_t reserved = 0;
    for (int i = 0; i < 5; ++i) {
        entries.push_back(spool.append(sample_record(i)));
        reserved += Spool::bytes_appended_for(entries.back());
    }
    spool.flush();
    ByteWriter writer;
    writer.reserve(reserved);
    const std::uint8_t* const start = writer.buffer().data();
    for (const auto& entry : entries) spool.append_bytes_to(entry, writer);
    EXPECT_EQ(writer.buffer().data(), start);
    ByteReader reader(writer.buffer());
    for (int i = 0; i < 5; ++i) {
        ByteReader record(reader.get_bytes());
        EXPECT_EQ(read_record(record), sample_record(i));
    }
    EXPECT_TRUE(reader.at_end());
}

// The shard writer takes each image from the message it arrived in, without a copy.
TEST(Spool, ARecordReadLeavingItsImageIsTheRecordWithItsImageInTheMessage) {
    ByteWriter writer;
    for (int i = 0; i < 3; ++i) write_record(writer, sample_record(i));
    const std::span<const std::uint8_t> message = writer.buffer();
    ByteReader reader(message);
    for (int i = 0; i < 3; ++i) {
        std::span<const std::uint8_t> image;
        ImageRecord record = read_record_leaving_image(reader, image);
        EXPECT_TRUE(record.sample.image.empty());
        EXPECT_TRUE(image.data() >= message.data() &&
                    image.data() + image.size() <= message.data() + message.size());
        record.sample.image.assign(image.begin(), image.end());
        EXPECT_EQ(record, sample_record(i));
    }
    EXPECT_TRUE(reader.at_end());
}

// A spool of three records, its entries, and what reading it back says.
class DamagedSpool : public ::testing::Test {
  protected:
    void SetUp() override {
        Spool spool(path_);
        for (int i = 0; i < 3; ++i) entries_.push_back(spool.append(sample_record(i)));
        spool.flush();
    }

    void flip_byte(std::uint64_t offset) {
        std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
        file.seekg(static_cast<std::streamoff>(offset));
        const char byte = static_cast<char>(file.get());
        file.seekp(static_cast<std::streamoff>(offset));
        file.put(static_cast<char>(byte ^ 0x01));
    }

    // The message of the Error that reading `entry` throws, both ways a record is read.
    std::string read_failure(const SpoolEntry& entry) const {
        const Spool spool(path_, Spool::Mode::read);
        std::string message;
        try {
            spool.read(entry);
        } catch (const Error& error) {
            message = error.what();
        }
        ByteWriter writer;
        try {
            spool.append_bytes_to(entry, writer);
            ADD_FAILURE() << "append_bytes_to read a damaged record";
        } catch (const Error& error) {
            EXPECT_EQ(message, error.what());
        }
        return message;
    }

    testing::TempDir dir_;
    std::filesystem::path path_ = dir_ / "0-3.spool";
    std::vector<SpoolEntry> entries_;
};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST_F(DamagedSpool, AFlippedByteFailsTheChecksumNamingTheFileAndTheRecord) {
    const auto& second = entries_[1];
    // In the record's key, in its image, in its checksum.
    for (const auto offset : {second.offset + 9, second.offset + second.length - 100,
                              second.offset + second.length + 3}) {
        flip_byte(offset);
        const auto message = read_failure(second);
        EXPECT_TRUE(contains(message, path_.string())) << message;
        EXPECT_TRUE(contains(message, "offset " + std::to_string(second.offset))) << message;
        EXPECT_TRUE(contains(message, "checksum")) << message;
        EXPECT_EQ(Spool(path_, Spool::Mode::read).read(entries_[0]), sample_record(0));
        flip_byte(offset);
    }
    EXPECT_EQ(Spool(path_, Spool::Mode::read).read(second), sample_record(1));
}

TEST_F(DamagedSpool, ATruncatedSpoolIsNamedNotAnInputOutputError) {
    std::filesystem::resize_file(path_, entries_[2].offset + entries_[2].length / 2);
    const auto message = read_failure(entries_[2]);
    EXPECT_TRUE(contains(message, path_.string())) << message;
    EXPECT_TRUE(contains(message, "truncated")) << message;
    EXPECT_EQ(Spool(path_, Spool::Mode::read).read(entries_[1]), sample_record(1));
}

// Spools are not fsynced: after a crash the tail the outcome list points into may read
// back as zeros (blocks allocated, data never written), checksum included.
TEST_F(DamagedSpool, ARecordLostToACrashAsZerosFailsTheChecksum) {
    const auto& last = entries_[2];
    {
        std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(static_cast<std::streamoff>(last.offset));
        const std::string zeros(last.length + 8, '\0');
        file.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }
    const auto message = read_failure(last);
    EXPECT_TRUE(contains(message, "offset " + std::to_string(last.offset))) << message;
    EXPECT_TRUE(contains(message, "checksum")) << message;
    EXPECT_EQ(Spool(path_, Spool::Mode::read).read(entries_[1]), sample_record(1));
}

TEST_F(DamagedSpool, AnEntryBeyondTheFileNeverSizesAnAllocation) {
    const auto message = read_failure({entries_[2].offset, ~std::uint64_t{0} - 4});
    EXPECT_TRUE(contains(message, "truncated")) << message;
}

TEST_F(DamagedSpool, AMissingSpoolIsNamed) {
    std::filesystem::remove(path_);
    try {
        Spool spool(path_, Spool::Mode::read);
        ADD_FAILURE() << "a missing spool was opened";
    } catch (const Error& error) {
        EXPECT_TRUE(contains(error.what(), path_.string())) << error.what();
    }
}

TEST(Spool, AppendsRecordsToAMessageAsLengthPrefixedBytes) {
    testing::TempDir dir;
    Spool spool(dir / "rank-0.spool");
    const auto first = spool.append(sample_record(1));
    const auto second = spool.append(sample_record(2));
    spool.flush();
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

// The bytes a train and a val record had before ImageRecord held an h5::SampleRow: what
// ranks exchange, and spools store before each record's checksum.
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
