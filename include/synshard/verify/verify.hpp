#pragma once

// `synshard verify OUT`: checks a finished output against its own manifest and index.

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "synshard/h5/format.hpp"
#include "synshard/h5/index_writer.hpp"
#include "synshard/image/geometry.hpp"
#include "synshard/image/pipeline.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/mpi/comm.hpp"

namespace synshard::verify {

struct VerifyOptions {
    std::filesystem::path output;  // OUT, holding manifest.json and index.h5
    // Decode every encoded image and recompute the train pixels' mean and std.
    bool full = false;
    // Without `full`: images decoded per shard, evenly spaced over its rows (0 = none).
    std::uint64_t sample = 16;
    // A reference run's manifest: every shard's sha256 must be the same in both.
    std::optional<std::filesystem::path> expect_manifest;
};

// One thing found wrong. `file` is relative to OUT ("train/train-00000-of-00002.h5",
// "index.h5", "manifest.json").
struct Problem {
    std::string file;
    std::string what;

    friend bool operator==(const Problem&, const Problem&) = default;
};

// What was checked and what was found.
struct Report {
    std::uint64_t shards = 0;
    std::uint64_t samples = 0;
    std::uint64_t bytes = 0;           // shard bytes hashed
    std::uint64_t images_decoded = 0;  // encoded images decoded and size-checked
    std::vector<Problem> problems;

    bool ok() const { return problems.empty(); }
};

// A shard's place in the output, as the manifest lists it.
struct ShardTask {
    std::string split;
    std::uint32_t index = 0;  // position in the split's shard list
    std::uint32_t count = 0;  // shards in the split
    manifest::ShardEntry entry;
};

// What check_shard compares a shard with.
struct Reference {
    // The class table every shard carries; when `full_table` is false only the synsets
    // are known (index.h5 unreadable: the manifest's classes), and only they are compared.
    h5::ClassTable classes;
    bool full_table = false;
    std::string encoding;                              // index.h5's @encoding; empty when unknown
    std::string label_scheme;                          // the manifest's
    std::int64_t format_version = h5::kFormatVersion;  // the manifest's
    // The manifest's --resize and --no-upscale, when it records --resize: every stored
    // size is then the layout's output for its source size, and the layout's content
    // (padding excluded) is what the stats count; else the whole stored image is.
    std::optional<image::ResizeSpec> resize;
    bool upscale = true;
};

// What the shards hold in sum, for the root to compare with the manifest's claims.
struct Tally {
    // split -> [label] samples; labels outside the class table are not counted.
    std::map<std::string, std::vector<std::uint64_t>> class_counts;
    // With options.full, the exact sums over the train images' stored pixels
    // (docs/FORMAT.md, "stats").
    image::PixelStats train_pixels;
    // Every row was read and (options.full) every train image decoded: only then do the
    // counts and sums above stand for the whole output.
    bool complete = true;
};

// One split's index entries grouped by shard, [shard] -> its entries in index order (the
// index promises that row `row` of shard `shard` holds `key`). Entries naming a shard
// >= count are left out (check_index reports them).
std::vector<std::vector<h5::KeyLocation>> entries_by_shard(std::vector<h5::KeyLocation> keys,
                                                           std::uint32_t count);

// Checks one shard file, OUT/<task.entry.path>, completely: size and sha256 against the
// manifest; root attributes; every dataset's length and the offsets' monotonicity (via
// reader::ShardReader); every image chunk read back (HDF5 verifies Fletcher32); labels in
// the class table, synsets equal to their label's, sizes positive and (reference.resize)
// the layout's, boxes inside their image's stored size with box labels in the class
// table, keys unique; the class table equal to the reference; `index_entries` (the
// index's entries naming this shard; null when there is no readable index) equal to the
// shard's keys row for row; and images decoded to their stored size (every row when
// options.full, else options.sample evenly spaced rows). Never throws for a bad file: an
// HDF5 or decoding failure is a Problem naming the shard. Adds to report's counters and
// to tally (its labels; with options.full, a train shard's pixels).
void check_shard(const std::filesystem::path& output, const ShardTask& task,
                 const Reference& reference, const std::vector<h5::KeyLocation>* index_entries,
                 const VerifyOptions& options, Report& report, Tally& tally);

// Collective: verifies OUT, everything its manifest claims. Shards are dealt round-robin
// to the ranks (shard t to rank t mod P), each rank checks its own (check_shard), and
// every problem and tally is gathered to the root. The root also checks:
// - manifest.json: every section against its digest (naming the edited section), labels
//   in order, the splits' counts, each class's counts against the shards', the accounting
//   (kept + rejected = scanned; rejected keys unique and in no split; every dropped
//   duplicate in a duplicates group, every leak group among them, every grouped key
//   kept or rejected), options.seed against seed, with options.full the stats against
//   the stored train pixels (exactly), and with options.expect_manifest every shard's
//   sha256 against the reference's;
// - index.h5: its size and sha256 against the manifest's, its splits, shard lists,
//   counts and keys (sorted and unique), its label scheme, class table (synsets and
//   words) against the manifest's classes, and its hierarchy against its class table;
// - the files in OUT: any that synshard did not write (convert::first_foreign_path) or
//   a shard file the manifest does not list.
// Every rank returns the whole report. Never throws for a bad file.
Report verify(const VerifyOptions& options, const mpi::Comm& comm);

// "verified N shards, S samples, B bytes, D images decoded: no problems" or the count
// followed by one line per problem ("  <file>: <what>").
std::string describe(const Report& report);

// {"ok", "shards", "samples", "bytes", "images_decoded", "problems": [{"file", "problem"}]}
nlohmann::ordered_json to_json(const Report& report);

}  // namespace synshard::verify
