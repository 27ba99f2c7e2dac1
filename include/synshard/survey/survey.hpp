#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "synshard/corpus/item.hpp"
#include "synshard/corpus/options.hpp"
#include "synshard/manifest/fingerprint.hpp"
#include "synshard/mpi/comm.hpp"
#include "synshard/plan/plan.hpp"
#include "synshard/util/reason.hpp"

// The distributed survey of a corpus: every rank scans part of it and all of them arrive
// at the same plan (plan::Plan), each holding the items it is to process.
namespace synshard::survey {

// What this rank holds besides the global plan: the items of the pieces it processes,
// encoded (a few dozen bytes an item, see encoded_items.hpp), so that holding a share
// costs little more than its keys.
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
    plan::Plan plan;
    RankShare share;
    // On the root: every corpus-level rejection, sorted by key. Empty on other ranks (no
    // rank holds every key besides the root's rejection list).
    std::vector<Rejection> rejected;
    // On every rank: what a resume of this plan is checked against besides the options,
    // over every input the survey read (see manifest::ResumeFingerprint). The plan's
    // input_fingerprint stays what the manifest records.
    manifest::ResumeFingerprint resume_fingerprint;

    // The items of share.pieces[i], in key order, with labels, splits, hashes and boxes
    // set (decoded anew on each call: hold them only while they are needed).
    std::vector<corpus::Item> share_items(std::size_t i) const;
};

// Collective. Scans the corpus in parallel (train sources round-robin over ranks in name
// order; all val sources on the last rank), selects classes, caps and splits each class
// with keyed_hash(seed, key), attaches boxes, cuts and assigns pieces, and sends each
// piece's items to the rank that processes it. Only per-source summaries are gathered
// on every rank; item listings go only to their processing rank. Each phase ends with
// every rank agreeing (mpi::run_phase): a failure anywhere throws PhaseFailure everywhere.
//
// The walks of an archive's inner tars (corpus::InnerListingsWriter) reach the root in
// rounds of about save_round_bytes, written as they arrive: the root never holds them all.
inline constexpr std::uint64_t kSaveRoundBytes = 64ull << 20;
PlanResult make_plan(const corpus::CorpusOptions& options, const mpi::Comm& comm,
                     std::uint64_t save_round_bytes = kSaveRoundBytes);

}  // namespace synshard::survey
