#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "synshard/h5/format.hpp"

namespace synshard::h5 {

// One WordNet synset of the hierarchy.
struct HierarchyNode {
    std::string wnid;  // kWnidLength bytes
    std::string words;
    std::string gloss;
    std::int32_t depth = 0;  // 0 for a root; otherwise 1 + the smallest depth of a parent

    friend bool operator==(const HierarchyNode&, const HierarchyNode&) = default;
};

// The hierarchy as a DAG over node indices (a synset may have several parents).
struct Hierarchy {
    std::vector<HierarchyNode> nodes;
    std::vector<std::pair<std::int32_t, std::int32_t>> edges;  // (parent, child), stored as given
    std::vector<std::int32_t> class_nodes;                     // class label -> node index

    friend bool operator==(const Hierarchy&, const Hierarchy&) = default;
};

// Where one sample lives inside its split.
struct KeyLocation {
    std::string key;
    std::uint32_t shard = 0;
    std::uint32_t row = 0;

    friend bool operator==(const KeyLocation&, const KeyLocation&) = default;
};

// Many KeyLocations, compactly: the keys back to back in one buffer (a std::string a key
// would cost several times the key's bytes on the root, which holds every key).
class KeyLocations {
  public:
    KeyLocations() = default;
    KeyLocations(std::initializer_list<KeyLocation> locations);

    void push_back(std::string_view key, std::uint32_t shard, std::uint32_t row);
    void push_back(const KeyLocation& location) {
        push_back(location.key, location.shard, location.row);
    }
    std::size_t size() const { return shards_.size(); }
    bool empty() const { return shards_.empty(); }
    // The i-th key added.
    std::string_view key(std::size_t i) const;
    std::uint32_t shard(std::size_t i) const { return shards_[i]; }
    std::uint32_t row(std::size_t i) const { return rows_[i]; }
    KeyLocation operator[](std::size_t i) const { return {std::string(key(i)), shard(i), row(i)}; }

  private:
    std::vector<char> bytes_;
    std::vector<std::uint64_t> starts_;
    std::vector<std::uint32_t> shards_;
    std::vector<std::uint32_t> rows_;
};

struct SplitIndex {
    std::string name;                              // "train", "val"
    std::vector<std::uint64_t> shard_num_samples;  // [shard index] -> rows; size = shard count
    KeyLocations keys;                             // every sample once, in any order
};

// Everything index.h5 holds; the converter gathers it on the root rank.
struct IndexContents {
    std::string encoding;  // as in the shards; kRawEncoding adds the `images` virtual datasets
    std::int32_t raw_height = 0;
    std::int32_t raw_width = 0;
    std::string label_scheme;
    ClassTable classes;
    Hierarchy hierarchy;
    std::vector<SplitIndex> splits;
};

// Writes OUT/index.h5 (assembled in memory, then published like a shard). Layout in
// docs/FORMAT.md: class table with glosses and class -> node, the hierarchy, and per split
// the shard list, the keys sorted bytewise with their shard and row, and virtual datasets
// `labels` (always) and `images` (raw encoding) spanning the split's shards through
// relative paths, so the output directory can be moved as a whole.
//
// Throws Error when the contents are inconsistent (a key twice in a split, a shard or row
// out of range, key count different from the shard sizes, a node index out of range) or
// the file cannot be written. Byte-identical output for identical contents.
void write_index(const std::filesystem::path& output_dir, const IndexContents& contents);

inline constexpr const char* kIndexFileName = "index.h5";

}  // namespace synshard::h5
