#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "synshard/corpus/archive.hpp"
#include "synshard/corpus/file_byte_source.hpp"
#include "synshard/corpus/item.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/reason.hpp"

namespace synshard::corpus {

// One item of a piece as read: its bytes, or why it could not be read.
struct ReadItem {
    const Item* item = nullptr;
    std::vector<std::uint8_t> bytes;     // empty when rejected
    std::optional<Rejection> rejection;  // set when the item could not be read
};

// The gzipped archives a rank reads its pieces from, each opened once: its index loaded
// once and its inflate stream carried on from one piece to the next (a rank's pieces come
// in archive order), where each piece's own would enter the stream again at the access
// point before its first member. Lent to every PieceReader of the rank, one at a time.
class GzipArchives {
  public:
    // The tar bytes of `archive` through its index at gzip_index, opened on first use.
    // Throws ArchiveError as open_tar_bytes (and again at the next call).
    ByteSource& open(const std::filesystem::path& archive, const std::filesystem::path& gzip_index);

  private:
    std::map<std::filesystem::path, std::unique_ptr<ByteSource>> open_;  // by archive
};

// Reads the items of one piece (items of a single source: one folder or one tar), each
// exactly once, into memory. Plain files are opened O_NONBLOCK after an lstat check, so
// a FIFO never blocks; tars are read member by member and never extracted. Before any
// byte is read the size is checked against max_item_bytes. Failures are values:
// `not-a-file` (no longer a regular file), `too-large`, `unreadable` (cannot open/read),
// `archive-error` (the tar broke before the member was reached: every item not yet
// returned gets it, with libarchive's message or "truncated or corrupt archive").
//
// A member of a tar inside an archive given as the input (Item::offset set) is read in
// place: one pread of its bytes, none of the tar around it; a member the archive no
// longer holds whole (it shrank since the listing) is an `archive-error`.
//
// Order: key order (the span's order) for folders; archive order for tars and members
// read in place, so that a tar is read in one sequential pass. Callers must not depend on
// the order.
// The items must outlive the reader. Members read in place out of a gzipped archive are
// read through its seek index at gzip_index (the source's), entering the stream at the
// access point before each run of members in offset order (or, with gzip_archives given,
// carrying on the stream the rank's previous piece left open).
//
// Read-ahead: so that a read rarely waits on the disk, the kernel is asked
// (POSIX_FADV_WILLNEED) for the next kReadAheadItems files of a folder or members read in
// place, or for about as many bytes of a tar past the members reached. A folder's file is
// opened once, for its hint, and read through that descriptor (on a parallel file system
// every open is a round trip to the metadata server), so the reader holds up to
// kReadAheadItems descriptors; it still judges each file (type, size) when it reads it,
// so the hint never changes what is read or rejected.
class PieceReader {
  public:
    PieceReader(std::span<const Item> items, std::uint64_t max_item_bytes,
                const std::filesystem::path& gzip_index = {},
                GzipArchives* gzip_archives = nullptr);
    ~PieceReader();
    PieceReader(const PieceReader&) = delete;
    PieceReader& operator=(const PieceReader&) = delete;

    // The next item, or nullopt when every item has been returned.
    std::optional<ReadItem> next();

    static constexpr std::size_t kReadAheadItems = 8;

  private:
    std::optional<ReadItem> next_from_tar();
    // Reads through `file`, the descriptor the read-ahead opened, or opens the item itself
    // when there is none.
    ReadItem read_file_item(const Item& item, UniqueFd file) const;
    ReadItem read_in_place(const Item& item);
    // Asks for the files (or members read in place) up to kReadAheadItems past next_index_
    // not asked for yet.
    void read_ahead_files();
    void read_ahead_in_place();
    // Asks for the tar's next read_ahead_bytes_ past member_end_, those not asked for yet.
    void read_ahead_tar();

    std::span<const Item> items_;
    std::uint64_t max_item_bytes_;
    std::size_t next_index_ = 0;     // folders: the next item; tars: drains `pending_` at the end
    std::size_t advised_items_ = 0;  // folders: items [0, advised_items_) were asked for
    // Folders: the descriptors the read-ahead opened, item i's at i % size, until it is read.
    std::array<UniqueFd, kReadAheadItems + 1> opened_ahead_;
    bool tar_ = false;
    // Members read in place: by offset, from the archive opened once.
    std::vector<const Item*> by_offset_;
    // The archive's bytes: archive_file_, or a gzipped one lent by GzipArchives; null when
    // it could not be opened.
    ByteSource* archive_bytes_ = nullptr;
    std::unique_ptr<ByteSource> archive_file_;
    // The plain archive's descriptor for the hints; -1 for a gzipped one (its reads inflate).
    int archive_hints_ = -1;
    std::unique_ptr<ArchiveReader> archive_;
    bool archive_done_ = false;
    // Why the tar (or the archive of members read in place) could not be read on.
    std::string archive_failure_;
    // Tar members not yet returned, by member path.
    std::unordered_map<std::string, const Item*> pending_;
    std::vector<const Item*> leftovers_;
    // The tar's own descriptor for the hints (libarchive's is out of reach); where the
    // last member reached ends, counting 512-byte headers and padding (pax extended
    // headers are not seen, so it runs a little behind); and how far hints reached.
    UniqueFd tar_hints_;
    std::uint64_t member_end_ = 0;
    std::uint64_t advised_bytes_ = 0;
    std::uint64_t read_ahead_bytes_ = 0;
};

}  // namespace synshard::corpus
