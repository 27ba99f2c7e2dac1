#include "synshard/plan/shards.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "synshard/plan/shard_limits.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::plan {

std::uint32_t shard_count_for(std::uint64_t num_samples, std::uint64_t shard_size,
                              std::uint32_t requested) {
    if (requested > num_samples) {
        throw Error("asked for " + count_of(requested, "shard") + " but the split has only " +
                    count_of(num_samples, "sample"));
    }
    if (requested != 0) return requested;
    const std::uint64_t count = num_samples / shard_size + (num_samples % shard_size != 0 ? 1 : 0);
    if (count > kMaxShardCount) {
        throw Error("more than " + std::to_string(kMaxShardCount) + " shards: raise --shard-size");
    }
    return static_cast<std::uint32_t>(count);
}

DuplicateVerdict resolve_duplicates(std::vector<ContentCopy> copies, bool drop_leaks) {
    std::sort(copies.begin(), copies.end(),
              [](const ContentCopy& a, const ContentCopy& b) { return a.key < b.key; });
    DuplicateVerdict verdict;
    // (split, class) -> the smallest key, which is kept.
    std::map<std::pair<bool, std::int32_t>, std::string> kept;
    std::set<std::int32_t> labels;
    bool in_train = false;
    bool in_val = false;
    std::string first_val_key;
    for (const auto& copy : copies) {
        const auto [slot, inserted] = kept.emplace(std::pair(copy.in_val, copy.label), copy.key);
        if (!inserted) verdict.dropped.push_back({copy.key, slot->second});
        labels.insert(copy.label);
        in_train = in_train || !copy.in_val;
        if (copy.in_val && !in_val) first_val_key = copy.key;
        in_val = in_val || copy.in_val;
    }
    verdict.across_classes = labels.size() > 1;
    verdict.leak = in_train && in_val;
    if (verdict.leak && drop_leaks) {
        for (const auto& [slot, key] : kept) {
            if (!slot.first) verdict.dropped.push_back({key, first_val_key});
        }
        std::sort(verdict.dropped.begin(), verdict.dropped.end(),
                  [](const auto& a, const auto& b) { return a.key < b.key; });
    }
    return verdict;
}

}  // namespace synshard::plan
