#include "synshard/reader/sample_order.hpp"

#include <algorithm>
#include <numeric>

#include "synshard/util/error.hpp"
#include "synshard/util/rng.hpp"

namespace synshard::reader {

namespace {

// Distinct streams of one (seed, epoch): the shard permutation and each window's.
constexpr std::uint64_t kShardStream = 0x5348415244ULL;   // "SHARD"
constexpr std::uint64_t kWindowStream = 0x57494e444fULL;  // "WINDO"
constexpr std::uint64_t kSampleStream = 0x53414d504cULL;  // "SAMPL"

// SplitMix64's finaliser over each value in turn: a good 64-bit mix of a few integers.
std::uint64_t mix(std::initializer_list<std::uint64_t> values) {
    std::uint64_t state = 0;
    for (const std::uint64_t value : values) state = Rng(state ^ value).next();
    return state;
}

template <typename T>
void permute(std::vector<T>& values, Rng& rng) {
    for (std::size_t i = values.size(); i > 1; --i) {
        std::swap(values[i - 1], values[rng.below(i)]);
    }
}

}  // namespace

std::uint64_t sample_seed(std::uint64_t seed, std::uint64_t epoch, std::uint64_t index) {
    return mix({kSampleStream, seed, epoch, index});
}

EpochOrder::EpochOrder(std::vector<std::uint64_t> shard_sizes, const OrderOptions& options)
    : options_(options) {
    if (options.world_size == 0 || options.rank >= options.world_size) {
        throw Error("rank " + std::to_string(options.rank) + " of world size " +
                    std::to_string(options.world_size));
    }
    first_rows_.push_back(0);
    for (const std::uint64_t size : shard_sizes) first_rows_.push_back(first_rows_.back() + size);
    shard_order_.resize(shard_sizes.size());
    std::iota(shard_order_.begin(), shard_order_.end(), 0U);
    if (options.shuffle) {
        Rng rng(mix({kShardStream, options.seed, options.epoch}));
        permute(shard_order_, rng);
    }
    stream_starts_.push_back(0);
    for (const std::uint32_t shard : shard_order_) {
        stream_starts_.push_back(stream_starts_.back() + shard_sizes[shard]);
    }
    const std::uint64_t n = split_size();
    const std::uint64_t w = options.world_size;
    rank_size_ = options.drop_last ? n / w : (n + w - 1) / w;
}

std::uint64_t EpochOrder::epoch_sample(std::uint64_t position, std::vector<std::uint64_t>& window,
                                       std::uint64_t& window_number) const {
    std::uint64_t stream = position;
    if (options_.shuffle && options_.shuffle_buffer > 1) {
        const std::uint64_t buffer = options_.shuffle_buffer;
        const std::uint64_t number = position / buffer;
        if (window.empty() || window_number != number) {
            const std::uint64_t start = number * buffer;
            window.resize(std::min(buffer, split_size() - start));
            std::iota(window.begin(), window.end(), start);
            Rng rng(mix({kWindowStream, options_.seed, options_.epoch, number}));
            permute(window, rng);
            window_number = number;
        }
        stream = window[position % buffer];
    }
    // The shard whose rows hold this stream position, and the row.
    const auto next = std::upper_bound(stream_starts_.begin(), stream_starts_.end(), stream);
    const auto i = static_cast<std::size_t>(next - stream_starts_.begin() - 1);
    return first_rows_[shard_order_[i]] + (stream - stream_starts_[i]);
}

std::vector<std::uint64_t> EpochOrder::samples(std::uint64_t first, std::uint64_t count) const {
    std::vector<std::uint64_t> samples;
    if (first >= rank_size_) return samples;
    count = std::min(count, rank_size_ - first);
    samples.reserve(count);
    std::vector<std::uint64_t> window;
    std::uint64_t window_number = 0;
    for (std::uint64_t p = first; p < first + count; ++p) {
        // DistributedSampler's padding repeats the epoch from its start.
        const std::uint64_t position = (options_.rank + p * options_.world_size) % split_size();
        samples.push_back(epoch_sample(position, window, window_number));
    }
    return samples;
}

}  // namespace synshard::reader
