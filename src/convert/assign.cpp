#include <algorithm>
#include <map>
#include <numeric>

#include "conversion.hpp"
#include "synshard/plan/shards.hpp"

namespace synshard::convert {

void Conversion::assign_shards() {
    const auto start = Clock::now();
    const std::size_t classes = plan_.plan.classes.size();
    std::vector<std::uint64_t> counts(kSplits * classes, 0);
    for (const auto& image : images_) {
        if (!image.dropped)
            ++counts[split_index(image.split) * classes + static_cast<std::size_t>(image.label)];
    }
    const auto global = comm_.sum(std::span<const std::uint64_t>(counts));
    std::array<std::uint32_t, kSplits> requested{options_.train_shards, options_.val_shards};
    std::array<std::vector<std::uint64_t>, kSplits> class_offsets;
    mpi::run_phase(comm_, "shard counts", [&] {
        for (std::size_t split = 0; split < kSplits; ++split) {
            class_counts_[split].assign(
                global.begin() + static_cast<std::ptrdiff_t>(split * classes),
                global.begin() + static_cast<std::ptrdiff_t>((split + 1) * classes));
            const std::uint64_t total = std::accumulate(
                class_counts_[split].begin(), class_counts_[split].end(), std::uint64_t{0});
            shard_counts_[split] =
                plan::shard_count_for(total, options_.shard_size, requested[split]);
            class_offsets[split].resize(classes);
            std::exclusive_scan(class_counts_[split].begin(), class_counts_[split].end(),
                                class_offsets[split].begin(), std::uint64_t{0});
        }
    });

    // A class's images may sit on several ranks: its owner ranks them all by H.
    std::vector<std::size_t> survivors;
    for (std::size_t i = 0; i < images_.size(); ++i) {
        if (!images_[i].dropped) survivors.push_back(i);
    }
    const auto ranks = static_cast<std::size_t>(comm_.size());
    auto incoming = comm_.route(
        survivors.size(),
        [&](std::size_t i) {
            return static_cast<std::size_t>(images_[survivors[i]].label) % ranks;
        },
        [&](ByteWriter& writer, std::size_t i) {
            const auto& image = images_[survivors[i]];
            writer.put(image.label);
            writer.put<std::uint8_t>(static_cast<std::uint8_t>(image.split));
            writer.put(image.hash);
            writer.put_string(key_of(image));
            writer.put<std::uint64_t>(survivors[i]);
        });
    std::vector<ShardReply> replies;
    mpi::run_phase(comm_, "assign", [&] { replies = rank_class_members(incoming, class_offsets); });
    incoming = {};

    auto assigned = comm_.route(
        replies.size(), [&](std::size_t i) { return replies[i].origin; },
        [&](ByteWriter& writer, std::size_t i) {
            writer.put<std::uint64_t>(replies[i].index);
            writer.put<std::uint32_t>(replies[i].shard);
        });
    mpi::run_phase(comm_, "assign replies", [&] {
        mpi::for_each_routed(assigned, [&](int, ByteReader& reader) {
            auto& image = images_.at(reader.get<std::uint64_t>());
            image.shard = reader.get<std::uint32_t>();
        });
    });
    time_phase("assign", start);
}

std::vector<ShardReply> Conversion::rank_class_members(
    std::vector<std::vector<std::uint8_t>>& incoming,
    const std::array<std::vector<std::uint64_t>, kSplits>& class_offsets) const {
    struct Member {
        std::uint64_t hash;
        std::string key;
        int origin;
        std::uint64_t index;
    };
    std::map<std::pair<std::uint8_t, std::int32_t>, std::vector<Member>> classes_here;
    mpi::for_each_routed(incoming, [&](int origin, ByteReader& reader) {
        const auto label = reader.get<std::int32_t>();
        const auto split = reader.get<std::uint8_t>();
        Member member;
        member.hash = reader.get<std::uint64_t>();
        member.key = reader.get_string();
        member.origin = origin;
        member.index = reader.get<std::uint64_t>();
        classes_here[{split, label}].push_back(std::move(member));
    });
    std::vector<ShardReply> replies;
    for (auto& [slot, members] : classes_here) {
        std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
            return plan::HashOrder{a.hash, a.key} < plan::HashOrder{b.hash, b.key};
        });
        const auto [split, label] = slot;
        const std::uint64_t offset = class_offsets[split][static_cast<std::size_t>(label)];
        for (std::size_t i = 0; i < members.size(); ++i) {
            replies.push_back({members[i].origin, members[i].index,
                               plan::shard_for_position(offset + i, shard_counts_[split])});
        }
    }
    return replies;
}

}  // namespace synshard::convert
