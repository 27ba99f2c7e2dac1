#include <algorithm>

#include "conversion.hpp"
#include "synshard/plan/shards.hpp"

namespace synshard::convert {
namespace {

std::uint64_t leading_u64(const Sha256Digest& digest) {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = (value << 8) | digest[static_cast<std::size_t>(i)];
    return value;
}

}  // namespace

namespace {

// One image's copy as the digest's owner sees it.
struct Copy {
    plan::ContentCopy copy;
    int origin;
    std::uint64_t index;
};

// Copies of the same bytes are found by sorting the digests, not with a node per image:
// an image's record is read whole only when its digest repeats.
struct Arrival {
    Sha256Digest digest;
    int origin;
    std::size_t record;  // where the rest of its record starts in incoming[origin]
};

// The rest of a record after its digest, the key left in the message.
struct Record {
    std::uint64_t index;
    std::int32_t label;
    bool in_val;
    std::span<const std::uint8_t> key;

    static Record read(ByteReader& reader) {
        // A braced list is evaluated left to right: the fields in their order.
        return Record{reader.get<std::uint64_t>(), reader.get<std::int32_t>(),
                      reader.get<std::uint8_t>() != 0, reader.get_bytes()};
    }
};

std::vector<Arrival> sorted_arrivals(const std::vector<std::vector<std::uint8_t>>& incoming) {
    std::vector<Arrival> arrivals;
    for (std::size_t origin = 0; origin < incoming.size(); ++origin) {
        ByteReader reader(incoming[origin]);
        while (!reader.at_end()) {
            const auto digest = reader.get<Sha256Digest>();
            arrivals.push_back({digest, static_cast<int>(origin), reader.offset()});
            Record::read(reader);
        }
    }
    std::stable_sort(arrivals.begin(), arrivals.end(),
                     [](const Arrival& a, const Arrival& b) { return a.digest < b.digest; });
    return arrivals;
}

}  // namespace

void Conversion::find_duplicates() {
    const auto start = Clock::now();
    const auto ranks = static_cast<std::uint64_t>(comm_.size());
    auto incoming = comm_.route(
        images_.size(),
        [&](std::size_t i) { return leading_u64(images_[i].source_sha256) % ranks; },
        [&](ByteWriter& writer, std::size_t i) {
            const auto& image = images_[i];
            writer.put(image.source_sha256);
            writer.put<std::uint64_t>(i);
            writer.put(image.label);
            writer.put<std::uint8_t>(image.split == Split::val ? 1 : 0);
            writer.put_string(key_of(image));
        });
    std::vector<DuplicateDrop> drops;
    mpi::run_phase(comm_, "dedup", [&] { drops = judge_duplicates(incoming); });
    incoming = {};

    auto returned = comm_.route(
        drops.size(), [&](std::size_t i) { return drops[i].origin; },
        [&](ByteWriter& writer, std::size_t i) {
            writer.put<std::uint64_t>(drops[i].index);
            writer.put_string(drops[i].same_as);
        });
    mpi::run_phase(comm_, "dedup verdicts", [&] {
        mpi::for_each_routed(returned, [&](int, ByteReader& reader) {
            auto& image = images_.at(reader.get<std::uint64_t>());
            image.dropped = true;
            if (image.split == Split::train) {
                train_sums_ -= spools_[image.spool]->read(image.entry).pixel_sums;
            }
            rejected_.push_back({std::string(key_of(image)), Reason::duplicate,
                                 "same bytes as " + reader.get_string()});
        });
    });
    time_phase("dedup", start);
}

std::vector<DuplicateDrop> Conversion::judge_duplicates(
    const std::vector<std::vector<std::uint8_t>>& incoming) {
    const auto arrivals = sorted_arrivals(incoming);
    const auto read_copy = [&](const Arrival& arrival) {
        ByteReader reader(
            std::span(incoming[static_cast<std::size_t>(arrival.origin)]).subspan(arrival.record));
        const Record record = Record::read(reader);
        return Copy{
            {std::string(record.key.begin(), record.key.end()), record.label, record.in_val},
            arrival.origin,
            record.index};
    };
    std::vector<DuplicateDrop> drops;
    for (std::size_t first = 0, last = 0; first < arrivals.size(); first = last) {
        for (last = first + 1;
             last < arrivals.size() && arrivals[last].digest == arrivals[first].digest;) {
            ++last;
        }
        if (last - first < 2) continue;
        std::vector<Copy> copies;
        for (std::size_t i = first; i < last; ++i) copies.push_back(read_copy(arrivals[i]));
        std::vector<plan::ContentCopy> contents;
        manifest::KeyGroup group{to_hex(arrivals[first].digest), {}};
        for (const auto& copy : copies) {
            contents.push_back(copy.copy);
            group.keys.push_back(copy.copy.key);
        }
        std::sort(group.keys.begin(), group.keys.end());
        const auto verdict = plan::resolve_duplicates(contents, options_.drop_leaks);
        for (const auto& drop : verdict.dropped) {
            const auto found = std::find_if(copies.begin(), copies.end(),
                                            [&](const Copy& c) { return c.copy.key == drop.key; });
            drops.push_back({found->origin, found->index, drop.same_as});
        }
        if (verdict.leak) leaks_.push_back(group);
        duplicates_.push_back(std::move(group));
    }
    return drops;
}

}  // namespace synshard::convert
