#include "synshard/corpus/archive_input.hpp"

#include <zlib.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "synshard/corpus/archive.hpp"
#include "synshard/corpus/file_byte_source.hpp"
#include "synshard/corpus/tar_walker.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/bytes.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/log.hpp"

namespace synshard::corpus {
namespace {

namespace fs = std::filesystem;

// The first tar header with its pax or long-name headers before it: what open_input_archive
// checks of a plain file, checked before a long pass over data that may be no tar at all.
constexpr std::size_t kTarStartBytes = TarWalker::kMaxMetaBytes + 2 * 512;

// Throws UsageError naming `option` unless the gzip data at gz_path starts with a tar header.
void require_tar_start(const fs::path& gz_path, const char* option) {
    const auto usage_error = [&](const std::string& what) {
        return UsageError(std::string(option) + " " + gz_path.string() +
                          " is neither a folder nor a tar: " + what);
    };
    gzFile file = gzopen(gz_path.c_str(), "rb");
    if (file == nullptr) throw usage_error("cannot open it");
    // Read a block at a time: damage further on leaves what inflated before it.
    std::vector<std::uint8_t> start(kTarStartBytes);
    std::size_t got = 0;
    while (got < start.size()) {
        const int read = gzread(file, start.data() + got, 512);
        if (read <= 0) break;
        got += static_cast<std::size_t>(read);
    }
    gzclose(file);
    if (got == 0) throw usage_error("its gzip data does not inflate");
    start.resize(got);
    MemoryByteSource bytes(start, gz_path.string());
    try {
        // The member's data may lie past what was inflated: only its header is checked.
        TarWalker(bytes, 0, ~std::uint64_t{0}, gz_path.string()).next();
    } catch (const ArchiveError& error) {
        throw usage_error(error.what());
    }
}

}  // namespace

namespace {

// Walks [begin, end); with ends_at set, also stops where it says the data ends between two
// members.
OuterListing walk(ByteSource& tar, std::uint64_t begin, std::uint64_t end, const std::string& name,
                  const std::function<bool(std::uint64_t)>& ends_at) {
    OuterListing listing;
    try {
        TarWalker walker(tar, begin, end, name);
        while (!(ends_at && ends_at(walker.next_header()))) {
            auto member = walker.next();
            if (!member) break;
            listing.members.push_back(std::move(*member));
        }
    } catch (const ArchiveError& error) {
        listing.failure = error.what();
    }
    return listing;
}

}  // namespace

OuterListing walk_outer_tar(ByteSource& tar) {
    return walk(tar, 0, tar.size(), tar.name(), {});
}

OuterListing walk_outer_tar(GzipPassSource& tar) {
    return walk(tar, 0, tar.size(), tar.name(),
                [&](std::uint64_t offset) { return tar.ends_at(offset); });
}

OuterListing walk_inner_tar(ByteSource& archive, std::uint64_t begin, std::uint64_t end,
                            const std::string& name) {
    return walk(archive, begin, end, name, {});
}

std::string encode_outer_listing(const OuterListing& listing) {
    ByteWriter out;
    out.put_varint_string(listing.failure);
    out.put<std::uint64_t>(listing.members.size());
    for (const auto& member : listing.members) {
        out.put_varint_string(member.header.path);
        out.put(static_cast<std::uint8_t>(member.header.type));
        out.put_varint(static_cast<std::uint64_t>(member.header.declared_size));
        out.put(member.header.mtime_ns);
        out.put_varint(member.header_offset);
        out.put_varint(member.data_offset);
    }
    return {out.buffer().begin(), out.buffer().end()};
}

OuterListing decode_outer_listing(const std::string& bytes) {
    ByteReader in(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
    OuterListing listing;
    listing.failure = in.get_varint_string();
    listing.members.resize(in.get_count(4));
    for (auto& member : listing.members) {
        member.header.path = in.get_varint_string();
        const auto type = in.get<std::uint8_t>();
        if (type > static_cast<std::uint8_t>(MemberHeader::Type::other))
            throw Error("not an outer tar listing: member type " + std::to_string(type));
        member.header.type = static_cast<MemberHeader::Type>(type);
        member.header.declared_size = static_cast<std::int64_t>(in.get_varint());
        member.header.mtime_ns = in.get<std::int64_t>();
        member.header_offset = in.get_varint();
        member.data_offset = in.get_varint();
    }
    if (!in.at_end()) throw Error("not an outer tar listing: bytes after its end");
    return listing;
}

namespace {

constexpr std::uint64_t kListingsMagic = 0x53544e4c52454e49;  // "INERLNTS" little-endian
constexpr std::uint32_t kListingsVersion = 1;
constexpr std::size_t kListingsPreambleBytes =
    sizeof kListingsMagic + sizeof kListingsVersion + sizeof(std::uint64_t);

// The file's first bytes, as ByteWriter writes kListingsMagic.
std::vector<std::uint8_t> listings_magic() {
    ByteWriter magic;
    magic.put(kListingsMagic);
    return magic.buffer();
}

struct SavedWalk {
    std::uint64_t body_offset = 0;  // after the table
    std::uint64_t body_size = 0;
    std::uint64_t checksum = 0;
};

std::span<const std::uint8_t> bytes_of(std::string_view text) {
    return std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

}  // namespace

fs::path listings_path_for(const fs::path& index_path) {
    return fs::path(index_path.string() + ".listings");
}

std::map<InnerTar, OuterListing> load_inner_listings(const fs::path& path, const fs::path& archive,
                                                     const std::string& binding,
                                                     const std::vector<InnerTar>& wanted) {
    std::map<InnerTar, OuterListing> loaded;
    std::error_code error;
    if (!fs::is_regular_file(path, error)) return loaded;
    try {
        const FileByteSource now(archive);
        FileByteSource file(path);
        std::vector<std::uint8_t> preamble(kListingsPreambleBytes);
        if (file.read_at(0, preamble) != preamble.size()) return loaded;
        ByteReader start(preamble);
        if (start.get<std::uint64_t>() != kListingsMagic ||
            start.get<std::uint32_t>() != kListingsVersion)
            return loaded;
        const auto table_bytes = start.get<std::uint64_t>();
        if (table_bytes > file.size() - preamble.size()) return loaded;
        std::vector<std::uint8_t> table(table_bytes + sizeof(std::uint64_t));
        if (file.read_at(preamble.size(), table) != table.size()) return loaded;
        const auto body = std::span<const std::uint8_t>(table).first(table_bytes);
        ByteReader checksum(std::span<const std::uint8_t>(table).subspan(table_bytes));
        if (checksum.get<std::uint64_t>() != content_hash64(body)) return loaded;
        ByteReader in(body);
        if (in.get<std::uint64_t>() != now.size() || in.get<std::int64_t>() != now.mtime_ns() ||
            in.get_varint_string() != binding) {
            return loaded;
        }
        std::map<InnerTar, SavedWalk> saved;
        for (auto count = in.get_count(4); count > 0; --count) {
            InnerTar tar;
            tar.member = in.get_varint_string();
            tar.offset = in.get<std::uint64_t>();
            tar.size = in.get<std::uint64_t>();
            SavedWalk walk;
            walk.body_offset = in.get<std::uint64_t>();
            walk.body_size = in.get<std::uint64_t>();
            walk.checksum = in.get<std::uint64_t>();
            saved.emplace(std::move(tar), walk);
        }
        const std::uint64_t bodies = preamble.size() + table.size();
        for (const auto& tar : wanted) {
            const auto found = saved.find(tar);
            if (found == saved.end()) continue;
            const SavedWalk& walk = found->second;
            if (walk.body_size > file.size() || walk.body_offset > file.size() - walk.body_size)
                continue;
            std::string bytes(walk.body_size, '\0');
            std::span<std::uint8_t> buffer(reinterpret_cast<std::uint8_t*>(bytes.data()),
                                           bytes.size());
            if (file.read_at(bodies + walk.body_offset, buffer) != buffer.size() ||
                content_hash64(buffer) != walk.checksum) {
                continue;
            }
            loaded.emplace(tar, decode_outer_listing(bytes));
        }
    } catch (const Error&) {
        // Unreadable, or no listings: the inner tars are walked again.
        loaded.clear();
    }
    return loaded;
}

InnerWalkEntry inner_walk_entry(InnerTar tar, std::string_view encoded_walk) {
    return {std::move(tar), encoded_walk.size(), content_hash64(bytes_of(encoded_walk))};
}

InnerListingsWriter::InnerListingsWriter(const fs::path& path, const fs::path& archive,
                                         const std::string& binding,
                                         std::vector<InnerWalkEntry> entries)
    : file_(path, leftover_if_it_begins_with(temporary_path_for(path), listings_magic())),
      entries_(std::move(entries)) {
    const FileByteSource now(archive);
    ByteWriter table;
    table.put(now.size());
    table.put(now.mtime_ns());
    table.put_varint_string(binding);
    table.put<std::uint64_t>(entries_.size());
    std::uint64_t body_offset = 0;
    for (const auto& entry : entries_) {
        table.put_varint_string(entry.tar.member);
        table.put(entry.tar.offset);
        table.put(entry.tar.size);
        table.put(body_offset);
        table.put(entry.bytes);
        table.put(entry.checksum);
        body_offset += entry.bytes;
    }
    ByteWriter start;
    start.put(kListingsMagic);
    start.put(kListingsVersion);
    start.put<std::uint64_t>(table.buffer().size());  // the preamble's last field
    file_.write(start.buffer());
    file_.write(table.buffer());
    ByteWriter checksum;
    checksum.put(content_hash64(table.buffer()));
    file_.write(checksum.buffer());
}

void InnerListingsWriter::append(std::string_view encoded_walk) {
    if (appended_ == entries_.size())
        throw Error("archive listings: a walk past the last inner tar of the table");
    const InnerWalkEntry& entry = entries_[appended_];
    const auto bytes = bytes_of(encoded_walk);
    if (bytes.size() != entry.bytes || content_hash64(bytes) != entry.checksum) {
        throw Error("archive listings: the walk received for " + entry.tar.member +
                    " is not the one its table entry describes");
    }
    file_.write(bytes);
    ++appended_;
}

void InnerListingsWriter::finish() {
    if (appended_ != entries_.size()) {
        throw Error("archive listings: " + std::to_string(entries_.size() - appended_) +
                    " walks of the table were never appended");
    }
    file_.publish();
}

bool is_gzip_file(const fs::path& path) {
    std::error_code error;
    if (!fs::is_regular_file(path, error)) return false;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    std::array<unsigned char, 2> magic{};
    return file && std::fread(magic.data(), 1, magic.size(), file.get()) == magic.size() &&
           magic[0] == 0x1f && magic[1] == 0x8b;
}

GzipIndex load_or_build_gzip_index(const fs::path& gz_path, const fs::path& index_path,
                                   const char* option) {
    if (auto saved = load_gzip_index(index_path, gz_path)) {
        log::info("gzip index: reusing " + index_path.string() + " (" +
                  std::to_string(saved->points.size()) + " access points)");
        return std::move(*saved);
    }
    std::error_code error;
    if (fs::exists(index_path, error)) {
        log::warn("gzip index: discarding " + index_path.string() +
                  " (corrupt, of another format, or made for another state of " + gz_path.string() +
                  "): building it again");
    }
    require_tar_start(gz_path, option);
    if (index_path.has_parent_path()) fs::create_directories(index_path.parent_path());
    log::info("gzip index: building " + index_path.string() + " in one pass over " +
              gz_path.string());
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    GzipIndex index = build_gzip_index(
        gz_path, index_path, kDefaultGzipSpanBytes, {},
        [](GzipPassSource& tar) { return encode_outer_listing(walk_outer_tar(tar)); });
    if (!index.damage.empty()) log::warn("gzip index: " + index.damage);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    char figures[96];
    std::snprintf(figures, sizeof figures, "%.1f s, %.0f MB/s", seconds,
                  seconds > 0 ? static_cast<double>(index.compressed_size) / 1e6 / seconds : 0.0);
    log::info("gzip index: built " + index_path.string() + " (" +
              std::to_string(index.points.size()) + " access points over " +
              log::format_bytes(index.uncompressed_size) + ", the outer tar's headers walked " +
              "on the way) in " + figures);
    return index;
}

std::unique_ptr<ByteSource> open_tar_bytes(const fs::path& archive, const fs::path& gzip_index,
                                           GzipIndex* loaded) {
    if (gzip_index.empty()) return std::make_unique<FileByteSource>(archive);
    auto index = load_gzip_index(gzip_index, archive);
    if (!index) {
        throw ArchiveError(archive.string() + ": its index " + gzip_index.string() +
                           " is missing, corrupt or was made for another state of the file");
    }
    if (loaded != nullptr) *loaded = *index;
    return std::make_unique<GzipByteSource>(archive, std::move(*index));
}

}  // namespace synshard::corpus
