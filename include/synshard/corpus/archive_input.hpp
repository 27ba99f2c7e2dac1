#pragma once

#include <compare>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "synshard/corpus/byte_source.hpp"
#include "synshard/corpus/gzip_index.hpp"
#include "synshard/corpus/tar_walker.hpp"
#include "synshard/util/atomic_file.hpp"

namespace synshard::corpus {

// An archive given as an input (ILSVRC2012_img_train.tar, winter21_whole.tar.gz) read in
// place as the bytes of its tar: a plain one as it is, a gzipped one through its seek index.

// The members of an outer tar as its headers declare them, in offset order, and why the
// walk stopped early (empty when it reached the tar's end). Also what a walk of one of its
// inner tars finds (saved in its listings, below).
struct OuterListing {
    std::vector<TarMember> members;
    std::string failure;
};

// Walks the headers of the tar that fills `tar` (one read per member, no data read).
OuterListing walk_outer_tar(ByteSource& tar);
// The same during the pass that indexes a gzipped tar, whose end is known only when the
// pass gets there.
OuterListing walk_outer_tar(GzipPassSource& tar);

// Walks the headers of the tar that fills [begin, end) of `archive` (an inner tar), named
// `name` in what the walk's failure says.
OuterListing walk_inner_tar(ByteSource& archive, std::uint64_t begin, std::uint64_t end,
                            const std::string& name);

// An OuterListing as the appendix of a gzip index keeps it, and back; decode throws Error
// on bytes that are no listing.
std::string encode_outer_listing(const OuterListing& listing);
OuterListing decode_outer_listing(const std::string& bytes);

// Where an inner tar lies in its outer archive: what its saved walk is found by.
struct InnerTar {
    std::string member;  // its path in the outer tar
    std::uint64_t offset = 0;
    std::uint64_t size = 0;

    auto operator<=>(const InnerTar&) const = default;
};

// The walks of an archive's inner tars saved by an earlier run, so that a later one (a
// resume, or a run given the same --archive-index) reads none of their headers again:
// beside the gzip index index_path, or at index_path itself for a plain archive.
std::filesystem::path listings_path_for(const std::filesystem::path& index_path);

// The saved walks at `path` of the inner tars among `wanted`, read alone (an ImageNet-21k
// archive has 21,841 of them, 14M members). None when the file is missing, of another
// format, fails its table's checksum, or was saved for another state of `archive` (its
// size and modification time now) or other inner tars (`binding`: the caller's digest of
// the wanted set of every rank); an inner tar whose saved walk fails its checksum is left
// out, to be walked again.
std::map<InnerTar, OuterListing> load_inner_listings(const std::filesystem::path& path,
                                                     const std::filesystem::path& archive,
                                                     const std::string& binding,
                                                     const std::vector<InnerTar>& wanted);

// One inner tar's walk (encode_outer_listing) as the table of its saved listings holds it.
struct InnerWalkEntry {
    InnerTar tar;
    std::uint64_t bytes = 0;
    std::uint64_t checksum = 0;
};
InnerWalkEntry inner_walk_entry(InnerTar tar, std::string_view encoded_walk);

// Saves the walks of an archive's inner tars at `path` for load_inner_listings, a walk at
// a time: the table first, then the walks in its order, so that the writer holds none of
// them (an ImageNet-21k archive's are 0.85 GB). The file is published whole by finish(),
// or not at all.
class InnerListingsWriter {
  public:
    // Writes the table of `entries` (every inner tar's walk, sorted by tar) for `archive`
    // as it is now and `binding`. Throws Error when the file cannot be written.
    InnerListingsWriter(const std::filesystem::path& path, const std::filesystem::path& archive,
                        const std::string& binding, std::vector<InnerWalkEntry> entries);

    // Appends the walk of the table's next inner tar. Throws Error when the bytes are not
    // that walk (another length or checksum: a walk sent torn or out of order).
    void append(std::string_view encoded_walk);
    // Publishes the file. Throws Error when a walk of the table was not appended.
    void finish();

  private:
    AtomicFileWriter file_;
    std::vector<InnerWalkEntry> entries_;
    std::size_t appended_ = 0;
};

// Whether path is a regular file that starts as gzip data does (1f 8b).
bool is_gzip_file(const std::filesystem::path& path);

// The index of the gzipped tar gz_path saved at index_path when it is still that file's
// (logged as reused), else built anew in one pass and saved there, its folder created
// (logged with why the
// saved one was discarded, and the pass's MB/s) with the outer tar's listing as its
// appendix (its headers walked as the pass inflates them: no second pass). Before building, the
// start of the data must be a tar header: UsageError naming `option` otherwise, like a plain file
// that is no tar. Throws ArchiveError when the gzip data is corrupt or truncated, Error when the
// index cannot be written.
GzipIndex load_or_build_gzip_index(const std::filesystem::path& gz_path,
                                   const std::filesystem::path& index_path, const char* option);

// The tar bytes of an archive given as an input: the file itself, or with gzip_index set
// the gzip stream entered through that saved index (copied to `loaded` when given); a
// damaged gzip file's bytes end where the damage starts. Throws ArchiveError when the file
// cannot be opened, or the index is missing or not the file's (it changed since).
std::unique_ptr<ByteSource> open_tar_bytes(const std::filesystem::path& archive,
                                           const std::filesystem::path& gzip_index,
                                           GzipIndex* loaded = nullptr);

}  // namespace synshard::corpus
