#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "synshard/h5/format.hpp"

namespace synshard::reader {

// The root attributes of a shard.
struct ShardAttributes {
    std::int64_t format_version = 0;
    std::string split;
    std::int64_t shard_index = 0;
    std::int64_t shard_count = 0;
    std::uint64_t num_samples = 0;
    std::string encoding;
    std::string label_scheme;
};

// Read access to one shard file. Opening reads every per-sample array except the image
// data (a shard's metadata is small); read() then reads one sample's image bytes.
// Throws Error naming the file when it cannot be opened, a dataset is missing, the arrays
// disagree (lengths, offsets not increasing from 0 to the data size), or HDF5 reports a
// failure (a Fletcher32 mismatch in a corrupted chunk shows up in read()).
class ShardReader {
  public:
    explicit ShardReader(const std::filesystem::path& path);
    ~ShardReader();
    ShardReader(ShardReader&&) noexcept;
    ShardReader& operator=(ShardReader&&) noexcept;

    const ShardAttributes& attributes() const;
    std::uint64_t num_samples() const;
    bool is_raw() const;
    // For raw shards, the stored geometry (height, width); (0, 0) for encoded shards.
    std::pair<std::int32_t, std::int32_t> raw_geometry() const;

    // Row `row` (< num_samples(), else Error).
    h5::SampleRow read(std::uint64_t row) const;
    // Row `row` without its image data (`image` is empty): no image chunk is read.
    h5::SampleRow read_metadata(std::uint64_t row) const;
    // Only the image data of row `row`.
    std::vector<std::uint8_t> read_image(std::uint64_t row) const;
    // Reads every stored image chunk once, in blocks of a few MiB, so that HDF5 checks
    // each chunk's Fletcher32 checksum; returns the image bytes read. Memory stays at one
    // block. Throws Error naming the file when a read fails (a corrupted chunk).
    std::uint64_t scan_image_data() const;

    h5::ClassTable read_class_table() const;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace synshard::reader
