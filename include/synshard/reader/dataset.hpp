#pragma once

#include <cstdint>
#include <filesystem>
#include <iterator>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "synshard/h5/format.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/reader/index_reader.hpp"
#include "synshard/reader/shard_reader.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::reader {

// Where sample `index` of a split lives. A split's global order is shard 0's rows, then
// shard 1's, ... (the order of index.h5's virtual datasets).
struct SamplePosition {
    std::uint32_t shard = 0;
    std::uint64_t row = 0;

    friend bool operator==(const SamplePosition&, const SamplePosition&) = default;
};

// The samples of one shard in row order, for range-for:
//   for (const h5::SampleRow& sample : ShardSamples(shard)) ...
// Each step reads one row (ShardReader::read); the reader must outlive the range.
class ShardSamples {
  public:
    class Iterator {
      public:
        using iterator_category = std::input_iterator_tag;
        using value_type = h5::SampleRow;
        using difference_type = std::ptrdiff_t;
        using pointer = const h5::SampleRow*;
        using reference = const h5::SampleRow&;

        Iterator() = default;
        Iterator(const ShardReader* shard, std::uint64_t row);
        const h5::SampleRow& operator*() const { return sample_; }
        const h5::SampleRow* operator->() const { return &sample_; }
        Iterator& operator++();
        void operator++(int) { ++*this; }
        std::uint64_t row() const { return row_; }
        friend bool operator==(const Iterator& a, const Iterator& b) { return a.row_ == b.row_; }

      private:
        void load();

        const ShardReader* shard_ = nullptr;
        std::uint64_t row_ = 0;
        h5::SampleRow sample_;
    };

    explicit ShardSamples(const ShardReader& shard) : shard_(&shard) {}
    Iterator begin() const { return Iterator(shard_, 0); }
    Iterator end() const { return Iterator(nullptr, shard_->num_samples()); }

  private:
    const ShardReader* shard_;
};

// The RGB pixels (CV_8UC3) of a sample read from a shard with `encoding` (its `encoding`
// attribute): raw samples are the stored height x width x 3 array as is (padding
// included); encoded ones (JPEG or PNG bytes, told by content) are decoded with
// libjpeg-turbo/libpng exactly as the converter decoded them for the manifest's stats,
// and must be sample.height x sample.width. Throws Error naming the key otherwise.
cv::Mat decode_rgb(const h5::SampleRow& sample, std::string_view encoding,
                   std::pair<std::int32_t, std::int32_t> raw_geometry);

// The hierarchy stored in index.h5 as a wordnet::Hierarchy (for paths_to_root, ancestors,
// depth...), with `origin` as its origin. Throws Error if an edge names a missing node.
wordnet::Hierarchy to_wordnet_hierarchy(const h5::Hierarchy& hierarchy, std::string origin);

// A converted output (docs/FORMAT.md) opened for reading: random access by split and
// global index or by key, each shard's samples in order, decoded pixels, labels, boxes,
// class words and the WordNet hierarchy. Shards are opened on first use and stay open
// (ShardReader reads a shard's per-sample arrays when it opens it); the manifest and
// hierarchy are read on first use too. Not thread-safe: open one Dataset per thread or
// DataLoader worker. Every failure is an Error naming the file.
class Dataset {
  public:
    // `path` is the output directory, its manifest.json or its index.h5; the other files
    // are found next to it. index.h5 must exist; manifest.json only for manifest().
    explicit Dataset(const std::filesystem::path& path);
    ~Dataset();
    Dataset(Dataset&&) noexcept;
    Dataset& operator=(Dataset&&) noexcept;

    const std::filesystem::path& directory() const;
    const IndexReader& index() const;
    // OUT/manifest.json, read on first use.
    const manifest::Manifest& manifest() const;

    // The `encoding` attribute: jpeg, png, original (source bytes kept) or raw.
    const std::string& encoding() const;
    // Split names in bytewise order ("train", "val").
    const std::vector<std::string>& splits() const;
    // Throw Error for a split the output does not have.
    std::uint64_t num_samples(const std::string& split) const;
    std::uint32_t shard_count(const std::string& split) const;

    // Sample `index` < num_samples(split) of the split (else Error).
    SamplePosition position(const std::string& split, std::uint64_t index) const;
    // The inverse of position().
    std::uint64_t global_index(const std::string& split, SamplePosition position) const;
    const ShardReader& shard(const std::string& split, std::uint32_t shard) const;
    h5::SampleRow sample(const std::string& split, std::uint64_t index) const;
    // Where a key lives (a binary search of index.h5's sorted keys), nullopt if absent.
    std::optional<Located> locate(std::string_view key) const;
    // The sample stored under key, nullopt if no split has it.
    std::optional<h5::SampleRow> sample_by_key(std::string_view key) const;

    // For raw outputs, the stored geometry (height, width) every shard shares, read from
    // the first shard with samples; (0, 0) for encoded outputs or an output without samples.
    std::pair<std::int32_t, std::int32_t> raw_geometry() const;
    // decode_rgb() with this output's encoding.
    cv::Mat rgb(const h5::SampleRow& sample) const;

    // The label-indexed class table (with glosses) and the hierarchy of index.h5.
    const h5::ClassTable& classes() const;
    const wordnet::Hierarchy& hierarchy() const;
    // The class's wnid and words; throws Error for a label outside the table.
    const h5::ClassEntry& class_entry(std::int32_t label) const;
    // The label of a class wnid, nullopt when it is not one of the classes.
    std::optional<std::int32_t> label_of(std::string_view wnid) const;
    // True when label's class is `wnid` or has it among its WordNet ancestors
    // ("is a dog?"). False for a wnid the hierarchy does not hold.
    bool is_a(std::int32_t label, std::string_view wnid) const;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace synshard::reader
