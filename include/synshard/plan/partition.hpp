#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace synshard::plan {

// A contiguous range [begin, end) of one source's items (in key order) and its bytes.
struct ItemRange {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    std::uint64_t bytes = 0;

    friend bool operator==(const ItemRange&, const ItemRange&) = default;
};

// The most bytes a piece may hold: 4% of the mean per-rank load (at least 1). With every
// piece under it, largest-first assignment keeps the busiest rank under 1.04 x the mean
// (at its last piece it was the least loaded, so below the mean) unless one item alone is
// larger than the limit.
std::uint64_t piece_byte_limit(std::uint64_t total_bytes, int ranks);

// Pure. Cuts one source's items (sizes in key order) into contiguous ranges of at most
// `limit` bytes, greedily; an item larger than the limit is a range of its own. A source
// within the limit is one range. An empty source gives no range.
std::vector<ItemRange> cut_source(std::span<const std::uint64_t> item_bytes, std::uint64_t limit);

// Pure. Largest-first assignment: pieces in decreasing bytes (ties by index) each go to
// the least loaded rank (ties by lowest rank). Returns each piece's rank.
std::vector<int> assign_pieces(std::span<const std::uint64_t> piece_bytes, int ranks);

// Per-rank bytes of an assignment.
std::vector<std::uint64_t> rank_loads(std::span<const std::uint64_t> piece_bytes,
                                      std::span<const int> ranks_of_pieces, int ranks);

// max / mean of loads (1 when everything is empty).
double max_over_mean(std::span<const std::uint64_t> loads);

}  // namespace synshard::plan
