#pragma once

#include <cstdint>
#include <vector>

namespace synshard::reader {

// Which samples of a split one rank reads in one epoch, and in which order.
struct OrderOptions {
    bool shuffle = true;
    std::uint64_t seed = 0;
    std::uint64_t epoch = 0;
    std::uint32_t rank = 0;
    std::uint32_t world_size = 1;
    // torch's DistributedSampler: false pads every rank to ceil(N / W) samples by repeating
    // the epoch's first samples; true drops the tail, floor(N / W) samples each.
    bool drop_last = false;
    // Samples per shuffle window (0 or 1: shards are shuffled, their rows are not).
    std::uint64_t shuffle_buffer = 4096;
};

// The epoch's order of a split as a pure function of (options, shard sizes): no state,
// no I/O, the same on every rank and in every process and thread.
//
// With shuffle, the epoch first permutes the shards (from seed and epoch), which makes the
// "read stream": shard order[0]'s rows in row order, then order[1]'s, ... That stream is cut
// into windows of shuffle_buffer consecutive samples, and each window is permuted (from
// seed, epoch and the window's number). So sample p of the epoch lies within
// shuffle_buffer samples of its place in the read stream: reads move through the shards
// one window at a time. Without shuffle the epoch is the split's global order (shard 0's
// rows, then shard 1's, ...).
//
// Ranks then take the epoch's samples as torch.utils.data.DistributedSampler takes its
// indices: the epoch is padded with its own first samples (drop_last false) to a multiple
// of world_size, or cut to one (drop_last true), and rank r takes positions r, r + W,
// r + 2W, ... Ranks are disjoint apart from the padding, and their union is the split.
class EpochOrder {
  public:
    // shard_sizes: the samples of each shard of the split, in shard order. Throws Error
    // for world_size 0 or rank >= world_size.
    EpochOrder(std::vector<std::uint64_t> shard_sizes, const OrderOptions& options);

    // The split's samples (N).
    std::uint64_t split_size() const { return first_rows_.back(); }
    // This rank's samples in the epoch: ceil(N / W), or floor(N / W) with drop_last.
    std::uint64_t size() const { return rank_size_; }

    // The global indices (shard 0's rows first, then shard 1's, ...) of this rank's
    // samples at positions first .. first + count - 1 of its epoch (clipped to size()).
    std::vector<std::uint64_t> samples(std::uint64_t first, std::uint64_t count) const;

  private:
    // The global index of the epoch's sample at position `position` < N.
    std::uint64_t epoch_sample(std::uint64_t position, std::vector<std::uint64_t>& window,
                               std::uint64_t& window_number) const;

    OrderOptions options_;
    std::vector<std::uint64_t> first_rows_;  // first_rows_[s]: global index of shard s's row 0
    std::vector<std::uint32_t> shard_order_;
    std::vector<std::uint64_t> stream_starts_;  // stream position of shard_order_[i]'s row 0
    std::uint64_t rank_size_ = 0;
};

// The seed of a sample's random crop and flip: a mix of (seed, epoch, global index), so a
// sample's transform depends on nothing else (not on the rank, the thread or the worker).
std::uint64_t sample_seed(std::uint64_t seed, std::uint64_t epoch, std::uint64_t index);

}  // namespace synshard::reader
