#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "synshard/util/bytes.hpp"
#include "synshard/util/reason.hpp"

namespace synshard::manifest {

using Json = nlohmann::ordered_json;

inline constexpr const char* kManifestFileName = "manifest.json";

struct ShardEntry {
    std::string path;  // relative to the output directory: "train/train-00000-of-00002.h5"
    std::uint64_t num_samples = 0;
    std::uint64_t bytes = 0;
    std::string sha256;  // lower-case hex

    friend bool operator==(const ShardEntry&, const ShardEntry&) = default;
};

struct SplitEntry {
    std::uint64_t num_samples = 0;
    std::vector<ShardEntry> shards;  // in shard index order

    friend bool operator==(const SplitEntry&, const SplitEntry&) = default;
};

struct ClassSummary {
    std::int32_t label = 0;
    std::string synset;
    std::string words;
    std::map<std::string, std::uint64_t> counts;  // split -> samples

    friend bool operator==(const ClassSummary&, const ClassSummary&) = default;
};

// Keys whose sources have identical bytes.
struct KeyGroup {
    std::string source_sha256;  // lower-case hex
    std::vector<std::string> keys;

    friend bool operator==(const KeyGroup&, const KeyGroup&) = default;
};

struct PixelStats {
    std::array<double, 3> mean{};  // RGB, 0-255 scale
    std::array<double, 3> std{};

    friend bool operator==(const PixelStats&, const PixelStats&) = default;
};

// The model of OUT/manifest.json (docs/FORMAT.md, "manifest.json").
struct Manifest {
    std::int64_t format_version = 0;
    std::string tool_version;
    std::vector<std::pair<std::string, std::string>> environment;  // library, version
    Json options = Json::object();  // the effective options, as the caller gives them
    std::string input_fingerprint;  // hex, see input_fingerprint()
    std::uint64_t seed = 0;
    std::string hash;  // the name of the keyed hash
    std::string label_scheme;
    std::map<std::string, SplitEntry> splits;  // "train", "val"
    std::vector<ClassSummary> classes;         // by label
    std::vector<Rejection> rejected;
    std::vector<KeyGroup> duplicates;
    std::vector<KeyGroup> leaks;
    PixelStats stats;
    Json timings = Json::object();  // phase -> seconds

    friend bool operator==(const Manifest&, const Manifest&) = default;
};

// The wire forms of these types between ranks. The readers throw Error when the bytes are
// torn.
void write_shard_entry(ByteWriter& writer, const ShardEntry& shard);
ShardEntry read_shard_entry(ByteReader& reader);
void write_groups(ByteWriter& writer, const std::vector<KeyGroup>& groups);
std::vector<KeyGroup> read_groups(ByteReader& reader);

// A manifest with format_version, tool_version, environment (library_versions()) and
// hash (kKeyedHashName) filled in for this build.
Manifest make_manifest();

// The JSON document, keys in the documented order.
Json to_json(const Manifest& manifest);
// The manifest's "rejected" list: [{"key", "reason", "detail"}, ...].
Json to_json(const std::vector<Rejection>& rejected);
// Throws Error("<context>: ...") naming the missing or mistyped key.
Manifest from_json(const Json& json, const std::string& context = "manifest");

// Writes the manifest atomically (temporary file, fsync, rename), pretty-printed with two
// spaces and a final newline.
void write_manifest(const std::filesystem::path& path, const Manifest& manifest);
// Throws Error naming the path if it cannot be read or parsed.
Manifest read_manifest(const std::filesystem::path& path);

// A shard whose sha256 differs between two manifests; an empty sha256 means the shard is
// missing from that side.
struct ShardDifference {
    std::string path;
    std::string expected_sha256;
    std::string actual_sha256;

    friend bool operator==(const ShardDifference&, const ShardDifference&) = default;
};

// Every shard path of either manifest whose sha256 is not the same in both, by path.
std::vector<ShardDifference> compare_shards(const Manifest& expected, const Manifest& actual);
// "train/train-00000-of-00002.h5: expected <sha> got <sha|missing>"
std::string describe(const ShardDifference& difference);

}  // namespace synshard::manifest
