#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "synshard/corpus/listing.hpp"
#include "synshard/h5/format.hpp"
#include "synshard/image/pipeline.hpp"
#include "synshard/util/bytes.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::convert {

// One processed image on its way to a shard: the row the shard stores plus what the
// converter needs to place it (split, keyed hash) and to sum the train pixels.
struct ImageRecord {
    h5::SampleRow sample;
    corpus::Split split = corpus::Split::train;
    std::uint64_t hash = 0;  // keyed_hash(seed, key)
    // Train images: sums over the stored pixels (what the dataset's mean and std are
    // made of), kept here so that a rank need not hold them for every image it processed.
    image::PixelStats pixel_sums;

    friend bool operator==(const ImageRecord&, const ImageRecord&) = default;
};

// A record's bytes, as ranks exchange them and spools store them (each followed there by
// its checksum). read_record throws Error when the bytes end inside a record.
void write_record(ByteWriter& writer, const ImageRecord& record);
ImageRecord read_record(ByteReader& reader);
// read_record without the copy of the image: sample.image is left empty and `image`
// points at its bytes in the reader's buffer, for a record that the buffer outlives.
ImageRecord read_record_leaving_image(ByteReader& reader, std::span<const std::uint8_t>& image);

// Where a record lies in a spool file: `length` bytes of the record, then the XXH3-64 of
// those bytes (8 bytes, in the machine's byte order as ByteWriter writes them).
struct SpoolEntry {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

// An append-only file of records on scratch, so a rank's memory does not grow with
// the number of images it processed. Records are read back by entry with pread, and
// every read checks the record's checksum: scratch outlives the run that wrote it (a
// resume reads it days later, maybe on another node), and a flipped or missing byte
// there must never reach a shard. A spool is never fsynced: it is scratch, and a crash
// that leaves it torn (records lost, or read back as zeros) is caught by those checksums
// on reuse, which then processes its piece again. Its outcome list is scratch too (not
// fsynced; a torn one fails its own checksum); only the folder's header is made durable.
class Spool {
  public:
    // Appended records reach the file in blocks of this size, at multiples of it: the
    // page cache then holds a spool in large folios, which cost a fraction of the small
    // ones that record-sized writes at any offset make, to write and to free again.
    static constexpr std::uint64_t kWriteBlock = std::uint64_t{1} << 20;

    enum class Mode { create, read };
    // create: creates (truncates) path; read: opens a complete spool to read records.
    // Throws Error naming the path when it cannot be opened (a missing spool).
    explicit Spool(std::filesystem::path path, Mode mode = Mode::create);
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    // The record's entry; its bytes are written with the block they complete, or by
    // flush(). Records not flushed when the spool is destroyed are not written (the piece
    // that appended them was not completed, and nothing points at them).
    SpoolEntry append(const ImageRecord& record);
    // Writes the records appended since the last block, and lets go of the memory that
    // held them. Reading a spool that holds unwritten records throws std::logic_error.
    void flush();
    // The record's serialized bytes (as they travel between ranks, without the
    // checksum), appended to `writer` as ByteWriter::put_bytes would (length first), read
    // straight into its buffer. Throws as read() does.
    void append_bytes_to(const SpoolEntry& entry, ByteWriter& writer) const;
    // The most append_bytes_to(entry, ...) adds to a writer's buffer, its checksum read
    // along: reserved for every record of a message, the buffer is never moved.
    static std::size_t bytes_appended_for(const SpoolEntry& entry);
    // Throws Error naming the file and the record's offset when the file ends before the
    // record does (a truncated spool) or the record fails its checksum.
    ImageRecord read(const SpoolEntry& entry) const;

    const std::filesystem::path& path() const { return path_; }
    // The memory held for records not yet written (for tests).
    std::size_t write_buffer_bytes() const { return unwritten_.buffer().capacity(); }

  private:
    // Appends the record's bytes to `buffer` once its checksum matches.
    void read_checked(const SpoolEntry& entry, std::vector<std::uint8_t>& buffer) const;
    // Writes the first `bytes` of the unwritten records at size_.
    void write_unwritten(std::size_t bytes);

    std::filesystem::path path_;
    UniqueFd fd_;
    std::uint64_t size_ = 0;  // written so far (create), the file's size when opened (read)
    ByteWriter unwritten_;    // records appended after size_, each with its checksum
};

}  // namespace synshard::convert
