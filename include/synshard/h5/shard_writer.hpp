#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "synshard/h5/format.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::h5 {

// Which shard a writer produces and how its images are stored.
struct ShardSpec {
    std::filesystem::path output_dir;  // OUT; the shard goes to OUT/<split>/<file name>
    std::string split;                 // "train", "val"
    std::int64_t shard_index = 0;
    std::int64_t shard_count = 1;
    // "jpeg", "png", "webp", "source", ... (image_bytes + image_offsets) or kRawEncoding
    // (images, N x raw_height x raw_width x 3).
    std::string encoding;
    std::int32_t raw_height = 0;
    std::int32_t raw_width = 0;
    std::string label_scheme;  // recorded as given, e.g. "alphabetical"
    // Encoded outputs: the sum of the sizes of the images that will be added, when known
    // before the first add(). The image chunks are then sized so that the last one is
    // (nearly) full (ShardWriter::image_chunk_bytes) instead of padded up to 64 KiB, and
    // finish() throws Error if the added images differ from it in total.
    std::optional<std::uint64_t> image_bytes;

    bool is_raw() const { return encoding == kRawEncoding; }
};

// What finish() published.
struct PublishedShard {
    std::filesystem::path path;  // OUT/<split>/<file name>
    std::string relative_path;   // "<split>/<file name>"
    std::uint64_t num_samples = 0;
    std::uint64_t bytes = 0;
    Sha256Digest sha256{};
};

// Writes one shard file, one sample at a time. The file is assembled in memory
// (h5::File::create) and only reaches the disk in finish(), written as "<final>.tmp",
// synced and renamed: nothing is ever visible under the final name unless complete, and a
// full disk is a plain write error. Memory: the whole shard (its images and metadata).
//
// The file's bytes depend only on the spec, the class table and the samples in the
// order they were added: writing the same inputs again gives a byte-identical file.
//
// A writer destroyed before finish() (an exception, an interrupted job) leaves nothing
// on disk. Not thread-safe; one writer per file.
class ShardWriter {
  public:
    // The largest chunk of encoded image bytes (Fletcher32 each): a random read of one
    // image touches few bytes beyond it.
    static constexpr std::size_t kImageChunkBytes = std::size_t{64} * 1024;

    // The chunk size for `total` encoded bytes: the fewest chunks of at most
    // kImageChunkBytes, made equal, so the padding of the last chunk is less than one byte
    // per chunk. kImageChunkBytes when total is 0 (nothing is stored).
    static std::size_t image_chunk_bytes(std::uint64_t total);

    // Creates OUT/<split>/ if needed and the in-memory file. Throws Error naming the
    // file on any failure; throws Error if the spec or class table is invalid.
    ShardWriter(ShardSpec spec, const ClassTable& classes);
    ~ShardWriter();
    ShardWriter(const ShardWriter&) = delete;
    ShardWriter& operator=(const ShardWriter&) = delete;

    // Appends a sample as the next row; its data is only read during the call. Throws
    // Error (naming the key and the file) when the sample does not fit the spec: label
    // outside the class table, synset not kWnidLength bytes, raw image of the wrong size,
    // boxes and box labels of different counts, negative sizes, a NUL byte in the key.
    void add(const SampleView& sample);

    std::uint64_t num_samples() const;

    // Writes the metadata, closes the file (every return checked: a full disk shows
    // here), fsyncs, renames it to its final name, fsyncs the directory, and hashes it.
    // The writer cannot be used afterwards.
    PublishedShard finish();

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace synshard::h5
