#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace synshard::plan {

// What an image weighs in a rank's load besides its bytes, in bytes: resizing it to the
// output size, encoding, spooling and writing it cost about the same whatever its size,
// while reading, hashing and decoding it grow with its bytes. Over the bench's
// ImageNet-like photos (12 KB to 2 MB), the pipeline and the source digest took 0.50 ms
// an image plus 9.0 ns a byte (R^2 0.999, against 0.935 for bytes alone), and spooling
// and writing ~0.1 ms more an image: what 64 KiB of source costs.
inline constexpr std::uint64_t kImageLoadBytes = std::uint64_t{64} << 10;

// The load of `images` images holding `bytes` bytes.
constexpr std::uint64_t load_of(std::uint64_t bytes, std::uint64_t images) {
    return bytes + images * kImageLoadBytes;
}

// A contiguous range [begin, end) of one source's items (in key order) and its bytes.
struct ItemRange {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    std::uint64_t bytes = 0;

    std::uint64_t load() const { return load_of(bytes, end - begin); }

    friend bool operator==(const ItemRange&, const ItemRange&) = default;
};

// The most load a piece may hold: 4% of the mean per-rank load (at least 1). With every
// piece under it, largest-first assignment keeps the busiest rank under 1.04 x the mean
// (at its last piece it was the least loaded, so below the mean) unless one item alone is
// larger than the limit.
std::uint64_t piece_load_limit(std::uint64_t total_load, int ranks);

// Pure. Cuts one source's items (sizes in key order) into contiguous ranges of at most
// `limit` load, greedily; an item heavier than the limit is a range of its own. A source
// within the limit is one range. An empty source gives no range.
std::vector<ItemRange> cut_source(std::span<const std::uint64_t> item_bytes, std::uint64_t limit);

// Pure. Largest-first assignment: pieces in decreasing load (ties by index) each go to
// the least loaded rank (ties by lowest rank). Returns each piece's rank.
std::vector<int> assign_pieces(std::span<const std::uint64_t> piece_loads, int ranks);

// Per-rank sums of the pieces' loads (or bytes) under an assignment.
std::vector<std::uint64_t> rank_loads(std::span<const std::uint64_t> piece_loads,
                                      std::span<const int> ranks_of_pieces, int ranks);

// max / mean of loads (1 when everything is empty).
double max_over_mean(std::span<const std::uint64_t> loads);

}  // namespace synshard::plan
