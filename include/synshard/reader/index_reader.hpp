#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "synshard/h5/format.hpp"
#include "synshard/h5/index_writer.hpp"

namespace synshard::reader {

// Where a key lives: OUT/<shard_path>, row `row`.
struct Located {
    std::string split;
    std::uint32_t shard = 0;
    std::uint32_t row = 0;
    std::string shard_path;  // relative to the output directory

    friend bool operator==(const Located&, const Located&) = default;
};

// Read access to OUT/index.h5. Key lookups binary-search the sorted on-disk key list
// (about log2(N) single-row reads), so opening the index stays cheap for any size.
// Throws Error naming the file on open or read failures.
class IndexReader {
  public:
    explicit IndexReader(const std::filesystem::path& index_path);
    ~IndexReader();
    IndexReader(IndexReader&&) noexcept;
    IndexReader& operator=(IndexReader&&) noexcept;

    std::int64_t format_version() const;
    std::string encoding() const;
    std::string label_scheme() const;
    // The split names in the file, in bytewise order.
    std::vector<std::string> splits() const;
    std::uint64_t num_samples(const std::string& split) const;
    std::vector<std::string> shard_paths(const std::string& split) const;
    std::vector<std::uint64_t> shard_num_samples(const std::string& split) const;

    // Every key of the split with its shard and row, in stored (bytewise sorted) order.
    // Throws Error when keys, key_shards and key_rows differ in length.
    std::vector<h5::KeyLocation> read_keys(const std::string& split) const;

    // The key's location in any split (splits tried in bytewise order), nullopt if absent.
    std::optional<Located> locate(std::string_view key) const;

    h5::ClassTable read_class_table() const;
    h5::Hierarchy read_hierarchy() const;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace synshard::reader
