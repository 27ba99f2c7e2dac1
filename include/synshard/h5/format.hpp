#pragma once

// Names and records shared by the shard files, index.h5 and manifest.json
// (docs/FORMAT.md describes the layout they produce).

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "synshard/image/box.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::h5 {

// Written as `format_version` into every shard, index.h5 and manifest.json.
inline constexpr std::int64_t kFormatVersion = 3;
// The versions the readers and verify accept (docs/FORMAT.md, "Versions"): 2 differs from
// 3 in its box convention (VOC's 1-based rule on ImageNet's 0-based files) and in the
// manifest's sections, not in the layout of the shards and index.h5.
inline constexpr std::array<std::int64_t, 2> kReadableFormatVersions{2, 3};
bool is_readable_format_version(std::int64_t version);

// The `encoding` of outputs that store decoded pixels (`images`, N x H x W x 3) instead
// of encoded bytes (`image_bytes` + `image_offsets`).
inline constexpr std::string_view kRawEncoding = "raw";

// WordNet ids are stored as fixed-length ASCII of this many bytes ("n01440764").
inline constexpr std::size_t kWnidLength = 9;

// The names of docs/FORMAT.md, spelled once: every writer and reader of shards and
// index.h5 names its attributes, groups and datasets through these constants.

// Attributes of the root group of shards and index.h5, and (num_samples, shard_count) of
// index.h5's splits/<split> groups.
namespace attribute {
inline constexpr const char* kFormatVersion = "format_version";
inline constexpr const char* kSplit = "split";
inline constexpr const char* kShardIndex = "shard_index";
inline constexpr const char* kShardCount = "shard_count";
inline constexpr const char* kNumSamples = "num_samples";
inline constexpr const char* kEncoding = "encoding";
inline constexpr const char* kLabelScheme = "label_scheme";
inline constexpr const char* kRawHeight = "raw_height";  // index.h5 of raw outputs
inline constexpr const char* kRawWidth = "raw_width";
}  // namespace attribute

namespace group {
inline constexpr const char* kClasses = "classes";      // the class table (class_table::)
inline constexpr const char* kHierarchy = "hierarchy";  // index.h5 (hierarchy_table::)
inline constexpr const char* kSplits = "splits";        // index.h5, one group per split
}  // namespace group

// The datasets of a shard's root group: row i of each per-sample one is sample i.
// index.h5's splits/<split> groups reuse kKeys, kLabels and kImages for the same rows.
namespace column {
inline constexpr const char* kImageBytes = "image_bytes";      // encoded outputs
inline constexpr const char* kImageOffsets = "image_offsets";  // encoded outputs, N+1
inline constexpr const char* kImages = "images";               // raw outputs, N x H x W x 3
inline constexpr const char* kLabels = "labels";
inline constexpr const char* kSynsets = "synsets";
inline constexpr const char* kKeys = "keys";
inline constexpr const char* kSourceSha256 = "source_sha256";
// Each source's (height, width): SampleRow::source_height and source_width.
inline constexpr const char* kSourceSizes = "orig_sizes";
inline constexpr const char* kSizes = "sizes";
inline constexpr const char* kBboxes = "bboxes";
inline constexpr const char* kBboxOffsets = "bbox_offsets";  // N+1
inline constexpr const char* kBboxLabels = "bbox_labels";
}  // namespace column

// The datasets of the classes group (shards and index.h5; glosses and nodes in index.h5).
namespace class_table {
inline constexpr const char* kSynsets = "synsets";
inline constexpr const char* kWords = "words";
inline constexpr const char* kGlosses = "glosses";
inline constexpr const char* kAncestors = "ancestors";
inline constexpr const char* kAncestorOffsets = "ancestor_offsets";
inline constexpr const char* kNodes = "nodes";
}  // namespace class_table

// The datasets of index.h5's hierarchy group.
namespace hierarchy_table {
inline constexpr const char* kWnids = "wnids";
inline constexpr const char* kWords = "words";
inline constexpr const char* kGlosses = "glosses";
inline constexpr const char* kDepths = "depths";
inline constexpr const char* kEdges = "edges";
}  // namespace hierarchy_table

// The datasets of index.h5's splits/<split> groups besides column::kKeys, kLabels, kImages.
namespace split_table {
inline constexpr const char* kShardPaths = "shard_paths";
inline constexpr const char* kShardNumSamples = "shard_num_samples";
inline constexpr const char* kKeyShards = "key_shards";
inline constexpr const char* kKeyRows = "key_rows";
}  // namespace split_table

// "train-00003-of-00010.h5": five digits each, six for both when the count exceeds 99999
// ("train-000005-of-100000.h5").
std::string shard_file_name(std::string_view split, std::int64_t shard_index,
                            std::int64_t shard_count);
// Whether name is a shard file name of split as shard_file_name() writes it (five or
// more digits each).
bool is_shard_file_name(std::string_view split, std::string_view name);
// "train/train-00003-of-00010.h5", relative to the output directory.
std::string shard_relative_path(std::string_view split, std::int64_t shard_index,
                                std::int64_t shard_count);

// SHA-256 of a file's bytes, read in blocks (memory stays small for any file size).
// Throws Error naming the path.
Sha256Digest sha256_of_file(const std::filesystem::path& path);

struct SampleView;

// One row of a shard, owning its data: what ShardReader returns, and the shard's part of
// the converter's spool record (convert::ImageRecord).
struct SampleRow {
    std::string key;     // the input's key, unique in its split
    std::string synset;  // the label's wnid, kWnidLength bytes
    std::int32_t label = 0;
    // Encoded bytes, or for raw outputs raw_height x raw_width x 3 RGB bytes.
    std::vector<std::uint8_t> image;
    std::int32_t source_height = 0;  // the source's size after EXIF orientation
    std::int32_t source_width = 0;
    std::int32_t height = 0;  // the stored size (the content inside a raw image's padding)
    std::int32_t width = 0;
    Sha256Digest source_sha256{};          // of the source file's bytes
    std::vector<image::Box> boxes;         // in stored-image pixels
    std::vector<std::int32_t> box_labels;  // one per box

    // A view of this row, valid while the row lives and is not modified.
    SampleView view() const;

    friend bool operator==(const SampleRow&, const SampleRow&) = default;
};

// The fields of a SampleRow over storage the caller owns (what ShardWriter::add reads):
// the strings and spans must stay valid while the view is used.
struct SampleView {
    std::string_view key;
    std::string_view synset;
    std::int32_t label = 0;
    std::span<const std::uint8_t> image;
    std::int32_t source_height = 0;
    std::int32_t source_width = 0;
    std::int32_t height = 0;
    std::int32_t width = 0;
    Sha256Digest source_sha256{};
    std::span<const image::Box> boxes;
    std::span<const std::int32_t> box_labels;
};

// A shard's per-sample datasets other than the image data (image_bytes with
// image_offsets, or images), held column by column as the file stores them: what
// ShardWriter gathers before writing them and what ShardReader loads when it opens a
// shard. Rows are consistent when every column has num_samples() rows (bbox_offsets one
// more) and bbox_offsets rises from 0 to the number of boxes.
struct SampleColumns {
    std::vector<std::int32_t> labels;
    std::vector<std::string> synsets;
    std::vector<std::string> keys;
    std::vector<std::uint8_t> source_sha256;     // 32 bytes a row
    std::vector<std::int32_t> source_sizes;      // (source_height, source_width) a row
    std::vector<std::int32_t> sizes;             // (height, width) a row
    std::vector<float> bboxes;                   // (xmin, ymin, xmax, ymax) a box
    std::vector<std::uint64_t> bbox_offsets{0};  // row i's boxes: [offsets[i], offsets[i+1])
    std::vector<std::int32_t> bbox_labels;       // one per box

    std::uint64_t num_samples() const { return labels.size(); }
    // Appends every field of sample but its image as the next row.
    void append(const SampleView& sample);
    // Row `row` (< num_samples(), with consistent columns) with an empty image.
    SampleRow row(std::uint64_t row) const;
};

// One class of the label-indexed class table.
struct ClassEntry {
    std::string synset;                  // wnid, kWnidLength ASCII bytes
    std::string words;                   // "tench, Tinca tinca"
    std::string gloss;                   // WordNet definition (index.h5 only)
    std::vector<std::string> ancestors;  // wnids of every WordNet ancestor, stored as given

    friend bool operator==(const ClassEntry&, const ClassEntry&) = default;
};

// The class table: classes[label] describes label `label`.
struct ClassTable {
    std::vector<ClassEntry> classes;

    friend bool operator==(const ClassTable&, const ClassTable&) = default;
};

}  // namespace synshard::h5
