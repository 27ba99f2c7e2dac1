#include "inner_walks.hpp"

#include <algorithm>
#include <array>

#include "synshard/mpi/phase.hpp"
#include "synshard/util/bytes.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::survey {

// Where the walks of the --input archive's inner tars are saved: beside its gzip index, or
// at --archive-index itself for a plain archive; nowhere without an index or for a folder.
std::optional<std::filesystem::path> inner_listings_path(const corpus::CorpusOptions& options) {
    std::error_code error;
    if (!options.archive_index || !std::filesystem::is_regular_file(options.input, error))
        return std::nullopt;
    return corpus::is_gzip_file(options.input) ? corpus::listings_path_for(*options.archive_index)
                                               : *options.archive_index;
}

bool is_inner_tar(const corpus::Source& source) {
    return source.kind == corpus::Source::Kind::archive_member &&
           source.split == corpus::Split::train;
}

corpus::InnerTar inner_tar_of(const corpus::Source& source) {
    return {source.member, source.offset, source.size};
}

namespace {

void put_inner_tar(ByteWriter& out, const corpus::InnerTar& tar) {
    out.put_string(tar.member);
    out.put(tar.offset);
    out.put(tar.size);
}

corpus::InnerTar get_inner_tar(ByteReader& in) {
    corpus::InnerTar tar;
    tar.member = in.get_string();
    tar.offset = in.get<std::uint64_t>();
    tar.size = in.get<std::uint64_t>();
    return tar;
}

}  // namespace

// What the saved walks are bound to: every inner tar of the archive as discovered now.
std::string inner_tars_digest(const Inputs& inputs) {
    ByteWriter tars;
    for (const auto& source : inputs.sources) {
        if (is_inner_tar(source)) put_inner_tar(tars, inner_tar_of(source));
    }
    return content_digest(tars.buffer());
}

namespace {

// Every rank's inner walks in the order of the saved file, and the rounds they are sent in.
struct WalkTable {
    std::vector<corpus::InnerWalkEntry> entries;  // sorted by inner tar
    std::vector<int> holders;                     // the rank holding each entry's walk
    // Where each round starts in entries, then entries.size(): a round holds at most
    // round_bytes of walks, or one larger walk.
    std::vector<std::size_t> round_starts;
};

// The table of the entries each rank sent (its walks' tars, lengths and checksums).
WalkTable walk_table(const std::vector<std::vector<std::uint8_t>>& sent,
                     std::uint64_t round_bytes) {
    std::vector<std::pair<corpus::InnerWalkEntry, int>> held;
    for (std::size_t rank = 0; rank < sent.size(); ++rank) {
        ByteReader in(sent[rank]);
        while (!in.at_end()) {
            corpus::InnerWalkEntry entry;
            entry.tar = get_inner_tar(in);
            entry.bytes = in.get<std::uint64_t>();
            entry.checksum = in.get<std::uint64_t>();
            held.emplace_back(std::move(entry), static_cast<int>(rank));
        }
    }
    std::sort(held.begin(), held.end(),
              [](const auto& a, const auto& b) { return a.first.tar < b.first.tar; });
    WalkTable table;
    std::uint64_t in_round = 0;
    for (auto& [entry, holder] : held) {
        if (table.entries.empty() || in_round + entry.bytes > round_bytes) {
            table.round_starts.push_back(table.entries.size());
            in_round = 0;
        }
        in_round += entry.bytes;
        table.entries.push_back(std::move(entry));
        table.holders.push_back(holder);
    }
    table.round_starts.push_back(table.entries.size());
    return table;
}

}  // namespace

// The root saves the walks of the archive's inner tars unless every one was saved already
// (a damaged tar's walk is saved with where it broke: walking it again finds the same).
// The walks reach the root a round of about round_bytes at a time, in the file's order, and
// are written as they arrive: the root holds one round's, never all of them.
void save_inner_walks(std::map<corpus::InnerTar, std::string>& walks_here,
                      std::uint64_t saved_walks, const Inputs& inputs,
                      const corpus::CorpusOptions& options, std::uint64_t round_bytes,
                      const mpi::Comm& comm) {
    const auto listings = inner_listings_path(options);
    if (!listings) return;
    const std::array<std::uint64_t, 2> mine{saved_walks, walks_here.size()};
    const auto counts = comm.sum(std::span<const std::uint64_t>(mine));
    const std::uint64_t reused = counts[0];
    const std::uint64_t walked = counts[1] - counts[0];
    if (walked == 0) {
        if (comm.is_root() && reused > 0) {
            log::info("archive listings: reusing " + listings->string() + " (" +
                      count_of(reused, "inner tar") + ", none walked again)");
        }
        walks_here = {};
        return;
    }
    ByteWriter entries;
    for (const auto& [tar, walk] : walks_here) {
        const auto entry = corpus::inner_walk_entry(tar, walk);
        put_inner_tar(entries, tar);
        entries.put(entry.bytes);
        entries.put(entry.checksum);
    }
    const auto sent = comm.all_gather(entries.buffer());
    entries = {};
    const std::string phase = "plan: save archive listings";
    std::optional<corpus::InnerListingsWriter> file;
    const WalkTable table = mpi::run_phase(comm, phase, [&] {
        WalkTable table = walk_table(sent, round_bytes);
        if (comm.is_root()) {
            // Before the conversion takes OUT, where the default listings lie.
            if (listings->has_parent_path())
                std::filesystem::create_directories(listings->parent_path());
            file.emplace(*listings, options.input, inner_tars_digest(inputs), table.entries);
        }
        return table;
    });
    // This rank's walks, in the table's order among those it holds, each released once sent.
    auto own = walks_here.begin();
    for (std::size_t round = 0; round + 1 < table.round_starts.size(); ++round) {
        const std::size_t begin = table.round_starts[round];
        const std::size_t end = table.round_starts[round + 1];
        ByteWriter walks;
        for (std::size_t i = begin; i < end; ++i) {
            if (table.holders[i] != comm.rank()) continue;
            walks.put_string(own->second);
            own = walks_here.erase(own);
        }
        auto received = comm.gather(walks.buffer());
        walks = {};
        mpi::run_phase(comm, phase, [&] {
            if (!comm.is_root()) return;
            std::vector<ByteReader> from;
            for (const auto& bytes : received) from.emplace_back(bytes);
            for (std::size_t i = begin; i < end; ++i)
                file->append(from[static_cast<std::size_t>(table.holders[i])].get_string());
        });
    }
    mpi::run_phase(comm, phase, [&] {
        if (!comm.is_root()) return;
        file->finish();
        log::info("archive listings: walked " + count_of(walked, "inner tar") + " (" +
                  std::to_string(reused) + " reused), saved in " + listings->string());
    });
}

}  // namespace synshard::survey
