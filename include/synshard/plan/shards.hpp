#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "synshard/util/hash.hpp"

namespace synshard::plan {

// How many shards a split of num_samples gets: `requested` when non-zero, otherwise
// ceil(num_samples / shard_size). A split with no samples has no shards. shard_size is
// at least 1 (--shard-size's declared range, checked where it is parsed). Throws Error
// when more shards than samples are requested or the count exceeds kMaxShardCount
// (callers that check options against a plan make that a usage error).
std::uint32_t shard_count_for(std::uint64_t num_samples, std::uint64_t shard_size,
                              std::uint32_t requested);

// The balanced assignment: within a split, images sorted by (label, H) are numbered
// j = 0, 1, ...; image j goes to shard j mod S. `position` is j. Shard sizes then differ
// by at most one and each class's count in a shard is the floor or ceiling of its share.
inline std::uint32_t shard_for_position(std::uint64_t position, std::uint32_t shard_count) {
    return static_cast<std::uint32_t>(position % shard_count);
}

// The order everything is sorted in where the keyed hash decides: H first, the key's
// bytes break the (astronomically rare) ties, so the order is total and rank-free.
struct HashOrder {
    std::uint64_t hash;
    std::string_view key;

    friend bool operator<(const HashOrder& a, const HashOrder& b) {
        return a.hash != b.hash ? a.hash < b.hash : a.key < b.key;
    }
};

// One copy of some content, as the duplicate finder sees it.
struct ContentCopy {
    std::string key;
    std::int32_t label = 0;
    bool in_val = false;
};

// What to do with a group of inputs that have identical source bytes.
struct DuplicateVerdict {
    // Copies that must not reach a shard (reason `duplicate`), with the key they duplicate.
    struct Drop {
        std::string key;
        std::string same_as;
    };
    std::vector<Drop> dropped;
    // The copies lie in more than one class (all kept, reported).
    bool across_classes = false;
    // A val copy has a train twin: a train/val leak (reported; train copies dropped
    // with drop_leaks).
    bool leak = false;
};

// Within a class and split only one copy is kept: the smallest key in byte order. Copies
// in different classes are all kept. With drop_leaks, train copies of content that is
// also in val are dropped. The verdict depends only on the group's contents, never on
// their order.
DuplicateVerdict resolve_duplicates(std::vector<ContentCopy> copies, bool drop_leaks);

}  // namespace synshard::plan
