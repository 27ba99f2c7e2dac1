#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "synshard/image/box.hpp"
#include "synshard/image/pipeline.hpp"
#include "synshard/util/bytes.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::convert {

// One processed image on its way to a shard: what the shard stores plus what the
// converter needs to place it (split, keyed hash).
struct ImageRecord {
    std::string key;
    std::string synset;
    std::int32_t label = 0;
    bool val = false;
    std::uint64_t hash = 0;  // keyed_hash(seed, key)
    Sha256Digest source_sha256{};
    std::int32_t source_height = 0;  // after EXIF orientation
    std::int32_t source_width = 0;
    std::int32_t height = 0;  // as stored
    std::int32_t width = 0;
    std::vector<image::Box> boxes;
    std::vector<std::int32_t> box_labels;
    std::vector<std::uint8_t> data;  // encoded image, or raw HxWx3 RGB
    // Train images: sums over the stored pixels (what the dataset's mean and std are
    // made of), kept here so that a rank need not hold them for every image it processed.
    image::PixelStats pixel_sums;

    friend bool operator==(const ImageRecord&, const ImageRecord&) = default;
};

void write_record(ByteWriter& writer, const ImageRecord& record);
ImageRecord read_record(ByteReader& reader);

// Where a record lies in a spool file.
struct SpoolEntry {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

// An append-only file of records on scratch, so a rank's memory does not grow with
// the number of images it processed. Records are read back by entry with pread.
class Spool {
  public:
    enum class Mode { create, read };
    // create: creates (truncates) path; read: opens a complete spool to read records.
    explicit Spool(std::filesystem::path path, Mode mode = Mode::create);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    SpoolEntry append(const ImageRecord& record);
    // Makes every appended record durable (before the piece is declared complete).
    void sync();
    // The record's serialized bytes (as they travel between ranks), appended to `writer`
    // as ByteWriter::put_bytes would (length first), read straight into its buffer.
    void append_bytes_to(const SpoolEntry& entry, ByteWriter& writer) const;
    ImageRecord read(const SpoolEntry& entry) const;

    const std::filesystem::path& path() const { return path_; }

  private:
    void read_into(const SpoolEntry& entry, std::uint8_t* destination) const;

    std::filesystem::path path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    ByteWriter scratch_;
};

}  // namespace synshard::convert
