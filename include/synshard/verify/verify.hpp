#pragma once

// `synshard verify OUT`: checks a finished output against its own manifest and index.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "synshard/h5/format.hpp"
#include "synshard/h5/index_writer.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/mpi/comm.hpp"

namespace synshard::verify {

struct VerifyOptions {
    std::filesystem::path output;  // OUT, holding manifest.json and index.h5
    bool full = false;             // decode every encoded image
    // Without `full`: images decoded per shard, evenly spaced over its rows (0 = none).
    std::uint64_t sample = 16;
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
    std::string encoding;      // index.h5's @encoding; empty when unknown
    std::string label_scheme;  // the manifest's
};

// One split's index entries grouped by shard, [shard] -> its entries in index order (the
// index promises that row `row` of shard `shard` holds `key`). Entries naming a shard
// >= count are left out (check_index reports them).
std::vector<std::vector<h5::KeyLocation>> entries_by_shard(std::vector<h5::KeyLocation> keys,
                                                           std::uint32_t count);

// Checks one shard file, OUT/<task.entry.path>, completely: size and sha256 against the
// manifest; root attributes; every dataset's length and the offsets' monotonicity (via
// reader::ShardReader); every image chunk read back (HDF5 verifies Fletcher32); labels in
// the class table, synsets equal to their label's, sizes positive, boxes inside their
// image's stored size with box labels in the class table, keys unique; the class table
// equal to the reference; `index_entries` (the index's entries naming this shard; null
// when there is no readable index) equal to the shard's keys row for row; and images decoded to
// their stored size (every row when options.full, else options.sample evenly spaced rows). Never
// throws for a bad file: an HDF5 or decoding failure is a Problem naming the shard. Adds to
// report's counters.
void check_shard(const std::filesystem::path& output, const ShardTask& task,
                 const Reference& reference, const std::vector<h5::KeyLocation>* index_entries,
                 const VerifyOptions& options, Report& report);

// Collective: verifies OUT. Shards are dealt round-robin to the ranks (shard t to rank
// t mod P), each rank checks its own, and every problem is gathered to the root; the
// root also checks index.h5 against the manifest (splits, shard lists and counts, keys
// sorted and unique) and looks for stray files in the split directories. Every rank
// returns the whole report. Throws Error (on every rank, via run_phase) only when
// manifest.json cannot be read.
Report verify(const VerifyOptions& options, const mpi::Comm& comm);

// "verified N shards, S samples, B bytes, D images decoded: no problems" or the count
// followed by one line per problem ("  <file>: <what>").
std::string describe(const Report& report);

// {"ok", "shards", "samples", "bytes", "images_decoded", "problems": [{"file", "problem"}]}
nlohmann::ordered_json to_json(const Report& report);

}  // namespace synshard::verify
