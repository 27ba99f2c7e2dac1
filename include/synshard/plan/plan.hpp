#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "synshard/corpus/boxes.hpp"
#include "synshard/corpus/item.hpp"
#include "synshard/corpus/listing.hpp"
#include "synshard/corpus/options.hpp"
#include "synshard/mpi/comm.hpp"
#include "synshard/plan/selection.hpp"
#include "synshard/util/reason.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::plan {

using corpus::Item;
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

// A unit of work: a contiguous range of one source's planned items, in key order.
struct Piece {
    std::uint32_t source = 0;  // index into Plan::sources
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    std::uint64_t bytes = 0;
    int rank = 0;  // who processes it
};

// The global part of a plan: identical on every rank, whatever the rank count, except
// `pieces[].rank` and `rank_bytes` (the partition).
struct Plan {
    std::uint64_t seed = 0;
    // manifest::input_fingerprint over every scanned source (see docs/FORMAT.md).
    std::string input_fingerprint;
    corpus::LabelScheme label_scheme = corpus::LabelScheme::sorted;
    std::string wordnet_origin;
    // "official" (--val-input), "none", "per-class K" or "fraction F".
    std::string val_rule;
    std::vector<ClassEntry> classes;  // increasing label
    std::vector<DroppedClass> dropped_classes;
    // The selected classes, their ancestors and the edges between them.
    wordnet::SubDag hierarchy;
    std::array<std::uint64_t, 2> images{};  // planned images by Split
    std::array<std::uint64_t, 2> bytes{};
    // Every scanned input is planned or rejected: scanned = planned + rejected.
    std::uint64_t scanned = 0;
    std::map<Reason, std::uint64_t> rejected_counts;
    corpus::BoxStats boxes;
    // Things the user should know that are not one input's fault ("label for a missing
    // image"), sorted.
    std::vector<std::string> notes;
    std::vector<SourceSummary> sources;  // sorted by name: train sources, then val
    std::vector<Piece> pieces;           // sorted by (source, begin)
    int ranks = 1;
    std::vector<std::uint64_t> rank_bytes;

    // Indexes of the pieces a rank processes, in increasing order.
    std::vector<std::size_t> pieces_of(int rank) const;
    std::uint64_t rejected_total() const;
};

// What this rank holds besides the global plan: the items of the pieces it processes,
// encoded (a few dozen bytes an item; what follows from the item's source is not stored),
// so that holding a share costs little more than its keys.
struct RankShare {
    // The pieces this rank processes: Plan::pieces_of(rank).
    std::vector<std::size_t> pieces;
    // For each of them, its item count and its items as encoded (read them with
    // PlanResult::share_items).
    std::vector<std::uint32_t> counts;
    std::vector<std::vector<std::uint8_t>> encoded;

    std::uint64_t item_count() const;
};

struct PlanResult {
    Plan plan;
    RankShare share;
    // On the root: every corpus-level rejection, sorted by key. Empty on other ranks (no
    // rank holds every key besides the root's rejection list).
    std::vector<Rejection> rejected;

    // The items of share.pieces[i], in key order, with labels, splits, hashes and boxes
    // set (decoded anew on each call: hold them only while they are needed).
    std::vector<Item> share_items(std::size_t i) const;
};

// Collective. Scans the corpus in parallel (train sources round-robin over ranks in name
// order; all val sources on the last rank), selects classes, caps and splits each class
// with keyed_hash(seed, key), attaches boxes, cuts and assigns pieces, and sends each
// piece's items to the rank that processes it. Only per-source summaries are gathered
// on every rank; item listings go only to their processing rank. Each phase ends with
// every rank agreeing (mpi::run_phase): a failure anywhere throws PhaseFailure everywhere.
PlanResult make_plan(const corpus::CorpusOptions& options, const mpi::Comm& comm);

// The plan as JSON: everything, with the per-rank partition in its own "partition"
// section so that plans made at different rank counts compare equal without it.
nlohmann::json to_json(const Plan& plan, const std::vector<Rejection>& rejected);

}  // namespace synshard::plan
