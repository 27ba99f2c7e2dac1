#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "synshard/corpus/byte_source.hpp"

namespace synshard::corpus {

// A place where inflating can start in the middle of a gzip file: the start of a deflate
// block. Back-references reach 32 KiB behind, so entering there needs the 32 KiB of output
// before it (its window), kept deflated in the index file.
struct GzipAccessPoint {
    std::uint64_t uncompressed_offset = 0;
    // The first compressed byte wholly inside the block; when `bits` is not 0, the block
    // starts with the high `bits` bits of the byte before it.
    std::uint64_t compressed_offset = 0;
    std::uint8_t bits = 0;
    // Where the deflated window lies in the index file, and its XXH3-64.
    std::uint64_t window_offset = 0;
    std::uint32_t window_size = 0;
    std::uint64_t window_checksum = 0;

    bool operator==(const GzipAccessPoint&) const = default;
};

// The seek index of one gzip file (one member or several concatenated): its access points
// in offset order. Only this table is held in memory (~40 bytes a point: ImageNet-21k's
// 1.1 TB at 64 MiB spans is ~16,000 points); the windows (~32 KiB each for JPEG data, which
// does not deflate) stay in the index file and are read only when their point is entered.
struct GzipIndex {
    std::filesystem::path file;  // the saved index the windows are read from
    // The gzip file it was made for, as fstat saw it.
    std::uint64_t compressed_size = 0;
    std::int64_t compressed_mtime_ns = 0;
    std::uint64_t uncompressed_size = 0;
    std::vector<GzipAccessPoint> points;
    // Set when the gzip data is corrupt or truncated: why, naming the file and the
    // compressed offset. The index then covers only the output before the damage
    // (uncompressed_size): what inflated before the point where inflating failed, or, when
    // a member's CRC or length fails its check (the damage lies anywhere in it), the output
    // before that member.
    std::string damage;
    // What the index's maker computed through it before saving it (for a gzipped tar of
    // tars, its outer member listing: corpus/archive_input.hpp), kept in the table so that
    // a reuse needs no pass over the data at all.
    std::string appendix;
    // content_digest (XXH3-128) of the table: the gzip file's size and mtime, the
    // uncompressed size, the damage, the appendix and every point with its window's
    // checksum. Equal digests mean
    // the same gzip file indexed alike, so ranks can check they all loaded the root's index.
    std::string digest;
};

inline constexpr std::uint64_t kDefaultGzipSpanBytes = std::uint64_t{64} << 20;

// The uncompressed bytes while the pass that indexes them runs (build_gzip_index): each
// read must start at or after the previous one's start (a walk of tar headers does), so
// that only a few blocks are held. size() is unknown (the largest number) until the end.
class GzipPassSource : public ByteSource {
  public:
    // Whether the data ends exactly at `offset` (where a tar without its end blocks ends
    // between two members); runs the pass that far. Counts as a read at offset.
    virtual bool ends_at(std::uint64_t offset) = 0;
};

// Inflates gz_path once, front to back, and saves its index to index_path: an access point
// at the first block boundary after every span_bytes (> 0) of output. The index is written
// as "<index_path>.tmp" while the windows stream out and published whole at the end, so no
// partial index ever bears its name; memory stays one window and one inflate state.
// on_progress, when set, is told the compressed bytes read so far after each read (an
// exception it throws, an interrupt say, abandons the pass and the temporary file).
// make_appendix, when set, is given the output as the pass makes it and its result is
// saved as the appendix: the pass runs only as far as its reads ask, then to the end.
// Data that is not gzip, corrupt (every member's CRC and length are checked) or truncated
// still gives an index, of the output before the damage, with `damage` set. Throws
// ArchiveError when gz_path cannot be opened, Error when the index cannot be written.
GzipIndex build_gzip_index(const std::filesystem::path& gz_path,
                           const std::filesystem::path& index_path,
                           std::uint64_t span_bytes = kDefaultGzipSpanBytes,
                           const std::function<void(std::uint64_t)>& on_progress = {},
                           const std::function<std::string(GzipPassSource&)>& make_appendix = {});

// The index saved at index_path, or nullopt when it must not be trusted: missing, written
// by another format version, truncated, failing its checksum (over everything but the
// windows, each of which is checked when read), or made for a gzip file whose size or
// modification time differ from gz_path's now. Throws Error only when a read fails.
std::optional<GzipIndex> load_gzip_index(const std::filesystem::path& index_path,
                                         const std::filesystem::path& gz_path);

// The uncompressed bytes of a gzip file at any offset: a read enters the stream at the last
// access point at or before its offset (the window read from the index file, checked,
// given to zlib as the dictionary) and inflates up to the offset, at most one span.
// A read that starts where the previous one ended, or a little further with no access
// point in between, continues the open stream, so reading a range in order inflates it
// once. Holds one inflate state and its input and skip buffers (~400 KiB), whatever the
// file's size.
class GzipByteSource : public ByteSource {
  public:
    // Throws ArchiveError when gz_path or the index file cannot be opened, or gz_path is not
    // the file the index was made for (its size or modification time changed since).
    GzipByteSource(const std::filesystem::path& gz_path, GzipIndex index);
    ~GzipByteSource() override;
    GzipByteSource(const GzipByteSource&) = delete;
    GzipByteSource& operator=(const GzipByteSource&) = delete;

    // Throws ArchiveError naming the gzip file and the compressed offset on corrupt or
    // truncated data, or naming the index file when a window fails its checksum.
    std::size_t read_at(std::uint64_t offset, std::span<std::uint8_t> buffer) override;
    std::uint64_t size() const override;
    const std::string& name() const override;

  private:
    struct Stream;
    // Inflates into `out` from the open stream, all of it: ArchiveError if the data ends.
    std::size_t inflate_some(std::span<std::uint8_t> out);
    // Reads, checks and inflates the window of index_.points[number] into the stream.
    void read_window(const GzipAccessPoint& point, std::size_t number);

    GzipIndex index_;
    std::string name_;
    std::unique_ptr<Stream> stream_;
};

}  // namespace synshard::corpus
