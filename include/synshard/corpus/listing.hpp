#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "synshard/corpus/archive_input.hpp"
#include "synshard/util/reason.hpp"

namespace synshard::wordnet {
class Hierarchy;
}

namespace synshard::corpus {

// Which split a source's images are given to before any selection.
enum class Split : std::uint8_t { train = 0, val = 1 };
std::string_view to_string(Split split);

// One unit of scanning: a synset folder, a synset tar, the flat val folder, or a folder or
// tar that stands where a synset belongs but names none (`cats/`, `N01440764/`); or a tar
// read in place out of an archive given as the input itself (`archive_member`): a
// per-synset tar inside `--input ILSVRC2012_img_train.tar`, or the whole flat
// `--val-input ILSVRC2012_img_val.tar`.
struct Source {
    enum class Kind : std::uint8_t { directory, tar, archive_member };
    // "n01440764" (train), "val" (flat val folder or tar) or "val/n01440764" (val in synset
    // folders); a tar's name has no ".tar". Unique; sources are ordered by name.
    std::string name;
    // The folder or tar; for archive_member, the archive file holding the tar.
    std::filesystem::path path;
    Kind kind = Kind::directory;
    Split split = Split::train;
    // The folder's or tar's synset; empty for the flat val folder (labels come from a file)
    // and for a source that names no synset.
    std::string wnid;
    // Prepended to a file or member name to make its key: "n01440764/", "cats/" or "val/".
    std::string key_prefix;
    // Set when the folder's or tar's name is no synset WordNet knows: why, naming it
    // ("cats/ is not a synset folder nXXXXXXXX/"). Each of its images is an `unknown-class`
    // reject with this detail, so that they all count against --max-reject-fraction.
    std::string no_class_detail;
    // archive_member only: the tar's path inside the archive ("train/n01440764.tar"; empty
    // when the tar is the whole file) and the bytes [offset, offset + size) it fills there.
    std::string member;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    // archive_member of a gzipped archive only: its saved seek index, through which every
    // read of `path` goes (corpus/archive_input.hpp).
    std::filesystem::path gzip_index;

    friend bool operator==(const Source&, const Source&) = default;
};
std::string_view to_string(Source::Kind kind);

// The sources of a corpus and what was rejected while finding them.
struct Discovery {
    std::vector<Source> sources;  // sorted by name
    std::vector<Rejection> rejected;
};

// Lists a train root, a folder or an archive file. In a folder every folder and `.tar` file
// (symbolic links followed) is a source,
// a class when its name is a synset of `wordnet` (`nXXXXXXXX/`, `nXXXXXXXX.tar`), else
// one with no_class_detail set (`cats/`, `N01440764/` with "did you mean n01440764/?",
// `n99999999.tar`). Other entries are rejected: dot files `hidden`, dangling links
// `not-a-file`, anything else `unlabeled` (a file outside a synset folder has no class).
// Throws UsageError if the root is not a readable folder or a name is both a folder and a
// tar.
//
// An archive file (ILSVRC2012_img_train.tar, fall11_whole.tar) is walked header by header
// (one read per member, no data read): each member `*.tar` is an archive_member source
// named by its basename (`train/n01440764.tar` -> n01440764, classed as a tar in a folder
// would be); folder members are skipped; a dot file is `hidden`; `../` and absolute paths
// are `unsafe-path`; any other member, a second tar of the same name (the first by
// offset is used; both are named) and a broken archive (named at the member where it
// broke, after the sources found before) are an `archive-error` keyed by the member's path.
// Throws UsageError if the root is neither a folder nor a regular file. A gzipped archive
// (winter21_whole.tar.gz) is walked alike through its seek index at gzip_index, which the
// caller has built (load_or_build_gzip_index); its sources carry that path.
Discovery discover_train(const std::filesystem::path& root, const wordnet::Hierarchy& wordnet,
                         const std::filesystem::path& gzip_index = {});

// Lists an official val folder: flat (one source "val"), or in synset folders after
// `valprep` (one source "val/nXXXXXXXX" per folder or tar, as discover_train finds them),
// detected by the presence of a synset of `wordnet` (in a flat folder a sub-folder is
// `not-a-file`, as in a synset folder). Keys are "val/<file name>" in both. Throws
// UsageError like discover_train. A regular file is a flat tar of val images (as
// ILSVRC2012_img_val.tar): one archive_member source "val" spanning the whole file, keyed
// as the flat folder.
Discovery discover_val(const std::filesystem::path& root, const wordnet::Hierarchy& wordnet);

// How much of each image a listing records for the resume fingerprint (--fingerprint):
// its size and modification time, or also a digest of its bytes (reading every image).
enum class FingerprintMode : std::uint8_t { stat, content };
std::string_view to_string(FingerprintMode mode);

// One image file or tar member found by listing a source; nothing has been read unless
// the listing hashes content.
struct ListedItem {
    // "<key_prefix><file name>", the same for a folder's file and a tar's member.
    std::string key;
    // The file's name in the folder, or the member's path inside the tar.
    std::string name;
    // The file's size, or the member's declared size.
    std::uint64_t size = 0;
    // The file's modification time (st_mtim), or the member's as its header declares it,
    // in nanoseconds since the epoch.
    std::int64_t mtime_ns = 0;
    // FingerprintMode::content only: util/hash.hpp's content_digest of the bytes, or
    // "unreadable" for a file that could not be read (the conversion rejects it then).
    std::string content;
    // archive_member sources: where the member's data starts in the archive file.
    std::uint64_t offset = 0;

    friend bool operator==(const ListedItem&, const ListedItem&) = default;
};

struct SourceListing {
    std::vector<ListedItem> items;  // sorted by key, keys unique
    std::vector<Rejection> rejected;
    // For a tar: the tar file's size and modification time (ns) as it was opened (the
    // archive file's for archive_member); zero for a folder or a tar that could not be
    // opened.
    std::uint64_t archive_size = 0;
    std::int64_t archive_mtime_ns = 0;
};

// Lists one source without reading any image: lstat for folders (FIFOs, sockets,
// folders, dangling links are `not-a-file`, dot files `hidden`, never opened), headers
// only for tars. In a tar only regular-file members are kept: `../` and absolute paths are
// `unsafe-path`; links, devices and members in sub-folders are `not-a-file`; a repeated
// name keeps its first copy (the others `duplicate`); an unreadable or truncated tar
// gives one `archive-error` keyed "<name>.tar" after the members listed so far. In both
// layouts an item larger than max_item_bytes is `too-large`. In content mode every item
// kept is read (a tar's members as the listing passes them) and its content set.
//
// An archive_member tar is walked in place (corpus/tar_walker.hpp: one read per member,
// no image data read) under the same rules; its `archive-error` is keyed by the tar's path
// in the archive, and a member that is itself a tar (nested deeper than one level) is an
// `archive-error` naming it. With `walk` given, a walk of its headers saved by an earlier
// run (load_inner_listings) is taken instead of reading them, or else the walk made here
// is left there to be saved.
SourceListing list_source(const Source& source, std::uint64_t max_item_bytes,
                          FingerprintMode mode = FingerprintMode::stat,
                          std::optional<OuterListing>* walk = nullptr);

}  // namespace synshard::corpus
