#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
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

// An output file recorded by size and content (index.h5).
struct FileEntry {
    std::uint64_t bytes = 0;
    std::string sha256;  // lower-case hex

    friend bool operator==(const FileEntry&, const FileEntry&) = default;
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

// The stats of exact per-channel pixel sums (docs/FORMAT.md, "stats"): mean = sum / pixels
// and std = sqrt(max(0, sum_of_squares / pixels - mean^2)), in long double, then rounded
// to double; zeros when there is no pixel. The converter and verify both compute them
// here.
PixelStats stats_of(const std::array<std::uint64_t, 3>& sum,
                    const std::array<std::uint64_t, 3>& sum_of_squares, std::uint64_t pixels);

// How far, per channel on the 0-255 scale, a recorded mean or std may be from the one
// verify --full recomputes from the stored bytes: the converter sums a YCbCr JPEG's
// resized planes before the lossy encoding, verify the decoded image after it
// (docs/FORMAT.md, "Stats", has the measured differences).
inline constexpr double kStatsMeanTolerance = 0.5;
inline constexpr double kStatsStdTolerance = 0.5;

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
    // The first pixel's index in the box files read (--box-origin); absent before format 3.
    std::optional<std::int64_t> box_origin;
    std::map<std::string, SplitEntry> splits;  // "train", "val"
    // index.h5's size and sha256; absent in manifests written before they were recorded.
    std::optional<FileEntry> index;
    std::vector<ClassSummary> classes;  // by label
    // The inputs scanned: each is in a shard or in `rejected` (dropped duplicates and
    // leaks included). Absent in manifests written before it was recorded.
    std::optional<std::uint64_t> scanned;
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

// The JSON document, keys in the documented order, ending with the section digests.
Json to_json(const Manifest& manifest);
// The manifest's "rejected" list: [{"key", "reason", "detail"}, ...].
Json to_json(const std::vector<Rejection>& rejected);
// Throws Error("<context>: ...") naming the missing or mistyped key.
Manifest from_json(const Json& json, const std::string& context = "manifest");

// The key of the section digests, the document's last key: {key: section_digest(value)}
// for every other key of the document.
inline constexpr const char* kDigestsKey = "digests";

// The digest of a section (the value of one top-level key) of manifest.json: the SHA-256,
// in lower-case hex, of the value's compact JSON text (no whitespace, keys in the
// document's order, strings in UTF-8 with only the escapes JSON requires). A digest tells
// an edit from the file as written, not a forgery.
std::string section_digest(const Json& value);

// A section whose digest is not the one the document records; `recorded` is empty for a
// section without a digest, `actual` for a digest without its section.
struct EditedSection {
    std::string key;
    std::string recorded;
    std::string actual;

    friend bool operator==(const EditedSection&, const EditedSection&) = default;
};

// The edited sections of a manifest.json document, in the document's order (digests
// without their section last). A document without a digests object has none to tell.
std::vector<EditedSection> edited_sections(const Json& document);

// Writes the manifest atomically (temporary file, fsync, rename), pretty-printed with two
// spaces and a final newline.
void write_manifest(const std::filesystem::path& path, const Manifest& manifest);
// The JSON document at path; throws Error naming the path if it cannot be read or is not
// JSON.
Json read_document(const std::filesystem::path& path);
// Throws Error naming the path if it cannot be read or parsed.
Manifest read_manifest(const std::filesystem::path& path);

// The REF of an --expect-manifest option, read; a UsageError naming it when it is not a
// synshard manifest.
Manifest read_expected_manifest(const std::filesystem::path& reference);

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
