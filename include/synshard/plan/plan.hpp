#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "synshard/corpus/boxes.hpp"
#include "synshard/corpus/listing.hpp"
#include "synshard/corpus/options.hpp"
#include "synshard/plan/selection.hpp"
#include "synshard/util/reason.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::plan {

using corpus::Split;

// One selected class.
struct ClassEntry {
    std::int32_t label = 0;
    std::string wnid;
    std::string words;  // WordNet's synonyms, ", "-joined
    std::string gloss;
    std::int32_t ilsvrc2012_id = 0;         // from the devkit; 0 when unknown
    std::vector<std::string> ancestors;     // every WordNet ancestor, sorted
    std::array<std::uint64_t, 2> images{};  // planned images, indexed by Split
};

// A scanned source and what was planned from it.
struct SourceSummary {
    corpus::Source source;
    std::uint64_t items = 0;  // planned (both splits)
    std::uint64_t bytes = 0;
};

// A source of boxes (corpus::box_sources) and what its annotations gave.
struct BoxSourceSummary {
    std::string name;       // "<option> <canonical path>"
    bool val_only = false;  // the --val-labels LOC csv
    corpus::BoxStats stats;
};

// A unit of work: a contiguous range of one source's planned items, in key order.
struct Piece {
    std::uint32_t source = 0;  // index into Plan::sources
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    std::uint64_t bytes = 0;
    int rank = 0;  // who processes it
};

// The global part of a plan: identical on every rank, whatever the rank count, except
// `pieces[].rank`, `rank_bytes` and `rank_loads` (the partition). A plain value:
// survey::make_plan makes it from a corpus.
struct Plan {
    std::uint64_t seed = 0;
    // manifest::input_fingerprint over every scanned source (see docs/FORMAT.md).
    std::string input_fingerprint;
    corpus::LabelScheme label_scheme = corpus::LabelScheme::sorted;
    std::string wordnet_origin;
    // "official" (--val-input), "none", "per-class K" or "fraction F".
    std::string val_rule;
    // With --devkit, where its IDs come from (corpus::Devkit::describe); else empty.
    std::string devkit;
    std::vector<ClassEntry> classes;  // increasing label
    std::vector<DroppedClass> dropped_classes;
    // The selected classes, their ancestors and the edges between them.
    wordnet::SubDag hierarchy;
    std::array<std::uint64_t, 2> images{};  // planned images by Split
    std::array<std::uint64_t, 2> bytes{};
    // Every scanned input is planned or rejected: scanned = planned + rejected.
    std::uint64_t scanned = 0;
    std::map<Reason, std::uint64_t> rejected_counts;
    corpus::BoxOrigin box_origin = corpus::BoxOrigin::zero;
    corpus::BoxStats boxes;  // over every box source
    // In the order they win an image; the --val-labels file only when it held boxes.
    std::vector<BoxSourceSummary> box_sources;
    // Things the user should know that are not one input's fault ("label for a missing
    // image"), sorted.
    std::vector<std::string> notes;
    std::vector<SourceSummary> sources;  // sorted by name: train sources, then val
    std::vector<Piece> pieces;           // sorted by (source, begin)
    int ranks = 1;
    std::vector<std::uint64_t> rank_bytes;
    std::vector<std::uint64_t> rank_loads;  // what the partition balances (load_of)

    // Indexes of the pieces a rank processes, in increasing order.
    std::vector<std::size_t> pieces_of(int rank) const;
    std::uint64_t rejected_total() const;
};

// Pure. Sorts the pieces by (source, begin) and gives each its rank (assign_pieces of
// their loads over plan.ranks), and sets rank_bytes and rank_loads.
void assign_ranks(Plan& plan);

// Pure. The partition `ranks` ranks make of this plan, from one process: each source's
// items (their sizes in key order: item_bytes[source]) cut anew at the piece limit of that
// many ranks (piece_load_limit of their load), then assign_ranks.
void partition_for(Plan& plan, const std::vector<std::vector<std::uint64_t>>& item_bytes,
                   int ranks);

// One line per --boxes source that gave no box to any planned image: "--boxes PATH gave
// no box to any image of the corpus (N boxes read from M annotations, for other
// images or images an earlier source annotates)".
std::vector<std::string> box_source_warnings(const Plan& plan);

// The plan as JSON: everything, with the per-rank partition in its own "partition"
// section so that plans made at different rank counts compare equal without it.
nlohmann::json to_json(const Plan& plan, const std::vector<Rejection>& rejected);

}  // namespace synshard::plan
