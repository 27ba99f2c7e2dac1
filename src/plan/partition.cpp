#include "synshard/plan/partition.hpp"

#include <algorithm>
#include <numeric>
#include <queue>

namespace synshard::plan {

std::uint64_t piece_load_limit(std::uint64_t total_load, int ranks) {
    const std::uint64_t mean = total_load / static_cast<std::uint64_t>(std::max(ranks, 1));
    return std::max<std::uint64_t>(mean / 25, 1);
}

std::vector<ItemRange> cut_source(std::span<const std::uint64_t> item_bytes, std::uint64_t limit) {
    std::vector<ItemRange> ranges;
    ItemRange current;
    for (std::uint32_t i = 0; i < item_bytes.size(); ++i) {
        if (current.end > current.begin && current.load() + load_of(item_bytes[i], 1) > limit) {
            ranges.push_back(current);
            current = ItemRange{i, i, 0};
        }
        current.end = i + 1;
        current.bytes += item_bytes[i];
    }
    if (current.end > current.begin) ranges.push_back(current);
    return ranges;
}

std::vector<int> assign_pieces(std::span<const std::uint64_t> piece_loads, int ranks) {
    std::vector<std::size_t> order(piece_loads.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return piece_loads[a] > piece_loads[b]; });
    using Load = std::pair<std::uint64_t, int>;
    std::priority_queue<Load, std::vector<Load>, std::greater<>> least;
    for (int rank = 0; rank < ranks; ++rank) least.emplace(0, rank);
    std::vector<int> owner(piece_loads.size(), 0);
    for (const std::size_t piece : order) {
        auto [load, rank] = least.top();
        least.pop();
        owner[piece] = rank;
        least.emplace(load + piece_loads[piece], rank);
    }
    return owner;
}

std::vector<std::uint64_t> rank_loads(std::span<const std::uint64_t> piece_loads,
                                      std::span<const int> ranks_of_pieces, int ranks) {
    std::vector<std::uint64_t> loads(static_cast<std::size_t>(ranks), 0);
    for (std::size_t i = 0; i < piece_loads.size(); ++i) {
        loads[static_cast<std::size_t>(ranks_of_pieces[i])] += piece_loads[i];
    }
    return loads;
}

double max_over_mean(std::span<const std::uint64_t> loads) {
    if (loads.empty()) return 1.0;
    const double total = std::accumulate(loads.begin(), loads.end(), 0.0);
    if (total == 0) return 1.0;
    const double max = static_cast<double>(*std::max_element(loads.begin(), loads.end()));
    return max / (total / static_cast<double>(loads.size()));
}

}  // namespace synshard::plan
