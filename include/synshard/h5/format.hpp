#pragma once

// Names and records shared by the shard files, index.h5 and manifest.json
// (docs/FORMAT.md describes the layout they produce).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "synshard/util/hash.hpp"

namespace synshard::h5 {

// Written as `format_version` into every shard, index.h5 and manifest.json.
inline constexpr std::int64_t kFormatVersion = 2;

// The `encoding` of outputs that store decoded pixels (`images`, N x H x W x 3) instead
// of encoded bytes (`image_bytes` + `image_offsets`).
inline constexpr std::string_view kRawEncoding = "raw";

// WordNet ids are stored as fixed-length ASCII of this many bytes ("n01440764").
inline constexpr std::size_t kWnidLength = 9;

// "train-00003-of-00010.h5": five digits each, more when the count needs them.
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
