#pragma once

#include <cstdint>

namespace synshard::plan {

// The ranges of the shard options convert and plan take (--shard-size, --train-shards,
// --val-shards).

// Shard file names number the shards with five digits, six beyond 99999 (ImageNet-21k at
// --shard-size 128 needs 110,916); shard_count_for refuses more.
inline constexpr std::uint32_t kMaxShardCount = 999999;

// More images than any ImageNet split in one shard, and far enough below 2^64 that
// ceil(images / shard size) cannot wrap.
inline constexpr std::uint64_t kMaxShardSize = std::uint64_t{1} << 31;

}  // namespace synshard::plan
