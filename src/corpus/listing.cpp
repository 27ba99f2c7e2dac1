#include "synshard/corpus/listing.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "mtime.hpp"
#include "synshard/corpus/archive.hpp"
#include "synshard/corpus/archive_input.hpp"
#include "synshard/corpus/file_byte_source.hpp"
#include "synshard/corpus/tar_walker.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/quantity.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::corpus {
namespace {

namespace fs = std::filesystem;

// What lstat (and, for links, stat) says about a folder entry, without opening it.
struct EntryKind {
    bool regular = false;
    bool directory = false;
    bool dangling = false;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::string what;  // for not-a-file details
};

EntryKind inspect(const fs::path& path) {
    EntryKind kind;
    struct stat status {};
    if (::lstat(path.c_str(), &status) != 0) {
        kind.what = "vanished while listing";
        return kind;
    }
    if (S_ISLNK(status.st_mode) && ::stat(path.c_str(), &status) != 0) {
        kind.dangling = true;
        kind.what = "dangling symbolic link";
        return kind;
    }
    kind.regular = S_ISREG(status.st_mode);
    kind.directory = S_ISDIR(status.st_mode);
    kind.size = static_cast<std::uint64_t>(status.st_size);
    kind.mtime_ns = mtime_ns(status);
    if (S_ISDIR(status.st_mode))
        kind.what = "a folder";
    else if (S_ISFIFO(status.st_mode))
        kind.what = "a FIFO";
    else if (S_ISSOCK(status.st_mode))
        kind.what = "a socket";
    else if (S_ISCHR(status.st_mode) || S_ISBLK(status.st_mode))
        kind.what = "a device";
    else if (!kind.regular)
        kind.what = "not a regular file";
    return kind;
}

std::vector<std::string> sorted_names(const fs::path& folder) {
    std::vector<std::string> names;
    std::error_code error;
    fs::directory_iterator it(folder, error);
    if (error) throw Error("cannot list " + folder.string() + ": " + error.message());
    for (; it != fs::directory_iterator(); it.increment(error)) {
        if (error) throw Error("cannot list " + folder.string() + ": " + error.message());
        names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

void require_folder(const fs::path& root, const char* option) {
    std::error_code error;
    if (!fs::is_directory(root, error)) {
        throw UsageError(std::string(option) + " " + root.string() + " is not a folder");
    }
}

constexpr std::string_view kTarSuffix = ".tar";

bool is_tar_name(const std::string& name) {
    return name.size() > kTarSuffix.size() && name.ends_with(kTarSuffix);
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// Why the images of a folder or tar whose name without ".tar" is `stem` have no class
// (`shown` is how the detail names it: "cats/", "val/cats.tar"); empty when stem is a
// synset WordNet knows. A name that is a synset but for its case gets a suggestion: such
// folders come from tools that change case, and the user means that class.
std::string no_class_detail(const std::string& stem, const std::string& shown, bool tar,
                            const wordnet::Hierarchy& wordnet) {
    if (wordnet::is_wnid(stem)) {
        if (wordnet.contains(stem)) return {};
        return shown + ": " + stem + " is not a WordNet noun synset (" + wordnet.origin() + ")";
    }
    std::string detail =
        shown + (tar ? " is not a synset tar nXXXXXXXX.tar" : " is not a synset folder nXXXXXXXX/");
    const std::string lowered = lower(stem);
    if (wordnet::is_wnid(lowered) && wordnet.contains(lowered))
        detail += " (did you mean " + lowered + (tar ? ".tar" : "/") + "?)";
    return detail;
}

Discovery discover_synsets(const fs::path& root, Split split, const std::string& name_prefix,
                           const std::string& key_prefix_root, const wordnet::Hierarchy& wordnet) {
    Discovery found;
    for (const auto& name : sorted_names(root)) {
        const fs::path path = root / name;
        const EntryKind kind = inspect(path);
        const bool tar = kind.regular && is_tar_name(name);
        if (name.starts_with(".")) {
            found.rejected.push_back({name_prefix + name, Reason::hidden, "hidden entry"});
        } else if (kind.directory || tar) {
            const std::string stem = tar ? name.substr(0, name.size() - kTarSuffix.size()) : name;
            std::string detail =
                no_class_detail(stem, name_prefix + (tar ? name : name + "/"), tar, wordnet);
            found.sources.push_back({name_prefix + stem,
                                     path,
                                     tar ? Source::Kind::tar : Source::Kind::directory,
                                     split,
                                     detail.empty() ? stem : std::string(),
                                     key_prefix_root.empty() ? stem + "/" : key_prefix_root,
                                     std::move(detail),
                                     "",
                                     0,
                                     0,
                                     {}});
        } else if (kind.dangling) {
            found.rejected.push_back({name_prefix + name, Reason::not_a_file, kind.what});
        } else {
            found.rejected.push_back({name_prefix + name, Reason::unlabeled,
                                      "not a synset folder nXXXXXXXX/ or nXXXXXXXX.tar"});
        }
    }
    std::sort(found.sources.begin(), found.sources.end(),
              [](const Source& a, const Source& b) { return a.name < b.name; });
    for (std::size_t i = 1; i < found.sources.size(); ++i) {
        if (found.sources[i].name == found.sources[i - 1].name) {
            throw UsageError(root.string() + " holds " +
                             found.sources[i].name.substr(name_prefix.size()) +
                             " both as a folder and as a tar");
        }
    }
    return found;
}

void finish(SourceListing& listing) {
    std::sort(listing.items.begin(), listing.items.end(),
              [](const ListedItem& a, const ListedItem& b) { return a.key < b.key; });
}

// Whether an item is kept: one larger than max_item_bytes is rejected unread.
bool keep_item(SourceListing& listing, ListedItem item, std::uint64_t max_item_bytes) {
    if (item.size > max_item_bytes) {
        listing.rejected.push_back({item.key, Reason::too_large,
                                    std::to_string(item.size) + " bytes, over --max-member-bytes " +
                                        std::to_string(max_item_bytes)});
        return false;
    }
    listing.items.push_back(std::move(item));
    return true;
}

// A file that cannot be read now is rejected when the conversion reads it; the
// fingerprint records that it could not.
std::string file_content(const fs::path& path) {
    try {
        return content_digest(read_file(path));
    } catch (const Error&) {
        return "unreadable";
    }
}

SourceListing list_folder(const Source& source, std::uint64_t max_item_bytes,
                          FingerprintMode mode) {
    SourceListing listing;
    for (const auto& name : sorted_names(source.path)) {
        const std::string key = source.key_prefix + name;
        if (name.starts_with(".")) {
            listing.rejected.push_back({key, Reason::hidden, "hidden file"});
            continue;
        }
        const EntryKind kind = inspect(source.path / name);
        if (!kind.regular) {
            listing.rejected.push_back({key, Reason::not_a_file, kind.what});
            continue;
        }
        if (keep_item(listing, {key, name, kind.size, kind.mtime_ns, {}, 0}, max_item_bytes) &&
            mode == FingerprintMode::content) {
            listing.items.back().content = file_content(source.path / name);
        }
    }
    return listing;
}

std::string member_detail(MemberHeader::Type type) {
    switch (type) {
        case MemberHeader::Type::symlink:
            return "symbolic link member";
        case MemberHeader::Type::hardlink:
            return "hard link member";
        case MemberHeader::Type::directory:
            return "folder member";
        default:
            return "special file member (device, FIFO...)";
    }
}

// A member whose data breaks is recorded as such; the listing then goes on as it does
// without reading data, so that the mode never changes what is listed or rejected.
std::string member_content(ArchiveReader& reader, std::int64_t declared_size) {
    try {
        return content_digest(reader.read_data(declared_size));
    } catch (const ArchiveError&) {
        return "unreadable";
    }
}

// What the members of a synset tar become, however the tar is read (libarchive for a tar
// file, the walker for one inside an archive), so that both give the same keys and
// rejections.
class TarMembers {
  public:
    // `folder` is the synset's folder its members may sit under: "n01440764" for
    // n01440764.tar (or "cats" for cats.tar). `tar_inside` names the tar when it lies
    // inside an archive: a tar among its members would be one more level of archives,
    // which no download has, so it is reported rather than decoded as an image.
    TarMembers(const Source& source, std::string folder, std::uint64_t max_item_bytes,
               SourceListing& listing, std::string tar_inside = {})
        : source_(source),
          folder_(std::move(folder)),
          tar_inside_(std::move(tar_inside)),
          max_item_bytes_(max_item_bytes),
          listing_(listing) {}

    // The item the member is listed as, or nullptr when it is rejected or skipped.
    ListedItem* add(const MemberHeader& header) {
        ++count_;
        std::string path = header.path;
        while (path.starts_with("./")) path.erase(0, 2);
        // Tars made with `tar cf nX.tar nX/` put every member under the synset's folder.
        if (path.starts_with(folder_ + "/")) path.erase(0, folder_.size() + 1);
        if (header.type == MemberHeader::Type::directory &&
            (path.empty() || path == "." || path == folder_)) {
            return nullptr;
        }
        const std::string key = source_.key_prefix + path;
        if (is_unsafe_member_path(header.path)) {
            listing_.rejected.push_back({source_.key_prefix + header.path, Reason::unsafe_path,
                                         "member path escapes the archive"});
        } else if (header.type != MemberHeader::Type::regular) {
            listing_.rejected.push_back({key, Reason::not_a_file, member_detail(header.type)});
        } else if (path.find('/') != std::string::npos) {
            listing_.rejected.push_back({key, Reason::not_a_file, "member inside a sub-folder"});
        } else if (path.starts_with(".")) {
            listing_.rejected.push_back({key, Reason::hidden, "hidden file"});
        } else if (!tar_inside_.empty() && is_tar_name(path)) {
            listing_.rejected.push_back(
                {key, Reason::archive_error,
                 "a tar nested in " + tar_inside_ +
                     ": only the tars directly inside the archive are read"});
        } else if (!names_.insert(path).second) {
            listing_.rejected.push_back(
                {key, Reason::duplicate, "member name repeated in the tar; first copy kept"});
        } else if (keep_item(listing_,
                             {key,
                              header.path,
                              static_cast<std::uint64_t>(header.declared_size),
                              header.mtime_ns,
                              {},
                              0},
                             max_item_bytes_)) {
            return &listing_.items.back();
        }
        return nullptr;
    }

    // After a broken tar: one `archive-error` keyed `tar`, after the members listed.
    void reject_archive(const std::string& tar, const ArchiveError& error) {
        listing_.rejected.push_back({tar, Reason::archive_error,
                                     "after " + count_of(count_, "member") + ": " + error.what()});
    }

  private:
    const Source& source_;
    std::string folder_;
    std::string tar_inside_;
    std::uint64_t max_item_bytes_;
    SourceListing& listing_;
    std::set<std::string> names_;
    std::size_t count_ = 0;
};

SourceListing list_tar(const Source& source, std::uint64_t max_item_bytes, FingerprintMode mode) {
    SourceListing listing;
    TarMembers members(source, source.path.stem().string(), max_item_bytes, listing);
    try {
        ArchiveReader reader(source.path);
        listing.archive_size = reader.file_size();
        listing.archive_mtime_ns = reader.file_mtime_ns();
        while (auto header = reader.next()) {
            ListedItem* item = members.add(*header);
            if (item != nullptr && mode == FingerprintMode::content) {
                item->content = member_content(reader, header->declared_size);
            }
        }
    } catch (const ArchiveError& error) {
        members.reject_archive(source.path.filename().string(), error);
    }
    return listing;
}

// As member_content, for a member read in place.
std::string member_content(ByteSource& archive, const ListedItem& item) {
    try {
        std::vector<std::uint8_t> bytes(item.size);
        if (archive.read_at(item.offset, bytes) != bytes.size()) return "unreadable";
        return content_digest(bytes);
    } catch (const ArchiveError&) {
        return "unreadable";
    }
}

// The tar's path as rejections name it: inside the archive, or the archive itself.
std::string archive_member_name(const Source& source) {
    return source.member.empty() ? source.path.filename().string() : source.member;
}

SourceListing list_archive_member(const Source& source, std::uint64_t max_item_bytes,
                                  FingerprintMode mode, std::optional<OuterListing>* walk) {
    SourceListing listing;
    const std::string tar = archive_member_name(source);
    TarMembers members(source, fs::path(tar).stem().string(), max_item_bytes, listing, tar);
    try {
        const FileByteSource file(source.path);
        listing.archive_size = file.size();
        listing.archive_mtime_ns = file.mtime_ns();
        const bool saved = walk != nullptr && walk->has_value();
        // A saved walk needs the tar's bytes only for the content of its members.
        std::unique_ptr<ByteSource> archive;
        if (!saved || mode == FingerprintMode::content)
            archive = open_tar_bytes(source.path, source.gzip_index);
        OuterListing walked =
            saved ? std::move(**walk)
                  : walk_inner_tar(
                        *archive, source.offset, source.offset + source.size,
                        source.member.empty() ? archive->name() : archive->name() + ": " + tar);
        for (const auto& member : walked.members) {
            ListedItem* item = members.add(member.header);
            if (item == nullptr) continue;
            item->offset = member.data_offset;
            if (mode == FingerprintMode::content) item->content = member_content(*archive, *item);
        }
        if (!walked.failure.empty()) members.reject_archive(tar, ArchiveError(walked.failure));
        if (walk != nullptr) *walk = std::move(walked);
    } catch (const ArchiveError& error) {
        members.reject_archive(tar, error);
    }
    return listing;
}

// The member's kind as an outer archive's rejections describe it.
std::string outer_member_kind(const MemberHeader& header) {
    return header.type == MemberHeader::Type::regular ? "a file" : member_detail(header.type);
}

// An archive given as an input option: one that cannot be opened, or whose first header
// is no tar header (a CSV named by mistake), is a usage error; later damage is the
// archive's `archive-error`.
std::unique_ptr<ByteSource> open_input_archive(const fs::path& path, const char* option,
                                               const fs::path& gzip_index = {},
                                               GzipIndex* loaded = nullptr) {
    try {
        auto archive = open_tar_bytes(path, gzip_index, loaded);
        TarWalker(*archive, 0, archive->size(), archive->name()).next();
        return archive;
    } catch (const ArchiveError& error) {
        throw UsageError(std::string(option) + " " + path.string() +
                         " is neither a folder nor a tar: " + error.what());
    }
}

// The per-synset train tars inside an archive file (see discover_train).
Discovery discover_train_archive(const fs::path& archive_path, const wordnet::Hierarchy& wordnet,
                                 const fs::path& gzip_index) {
    Discovery found;
    GzipIndex index;
    const auto archive = open_input_archive(archive_path, "--input", gzip_index, &index);
    const std::string archive_name = archive_path.filename().string();
    // A gzipped archive's headers were walked once, by the pass that built its index; a
    // damaged one's tar ends where the damage starts: the member cut there is named by the
    // walk, and the loss of those after it here.
    const OuterListing listing =
        gzip_index.empty() ? walk_outer_tar(*archive) : decode_outer_listing(index.appendix);
    std::string broken;
    if (!listing.failure.empty()) {
        broken = "after " + count_of(listing.members.size(), "member") + ": " + listing.failure;
    }
    if (!index.damage.empty()) {
        broken = index.damage + ": no member after uncompressed offset " +
                 std::to_string(archive->size()) + " is read" +
                 (broken.empty() ? "" : " (the walk stopped " + broken + ")");
    }
    // Each synset's first tar, by member path.
    std::map<std::string, std::string> first_tar;
    for (const auto& member : listing.members) {
        const MemberHeader& header = member.header;
        if (header.type == MemberHeader::Type::directory) continue;
        const std::string name = fs::path(header.path).filename().string();
        if (name.starts_with(".")) {
            found.rejected.push_back({header.path, Reason::hidden, "hidden entry"});
        } else if (is_unsafe_member_path(header.path)) {
            found.rejected.push_back(
                {header.path, Reason::unsafe_path, "member path escapes the archive"});
        } else if (header.type != MemberHeader::Type::regular || !is_tar_name(name)) {
            found.rejected.push_back(
                {header.path, Reason::archive_error,
                 header.path + " in " + archive_name + " is " + outer_member_kind(header) +
                     ", not a tar: only synset tars nXXXXXXXX.tar are read from it"});
        } else if (const std::string stem = name.substr(0, name.size() - kTarSuffix.size());
                   !first_tar.emplace(stem, header.path).second) {
            found.rejected.push_back({header.path, Reason::archive_error,
                                      archive_name + " holds " + name +
                                          " twice: " + first_tar[stem] + " (used, first) and " +
                                          header.path + " (ignored)"});
        } else {
            std::string detail = no_class_detail(stem, header.path, true, wordnet);
            found.sources.push_back({stem, archive_path, Source::Kind::archive_member, Split::train,
                                     detail.empty() ? stem : std::string(), stem + "/",
                                     std::move(detail), header.path, member.data_offset,
                                     static_cast<std::uint64_t>(header.declared_size), gzip_index});
        }
    }
    if (!broken.empty()) found.rejected.push_back({archive_name, Reason::archive_error, broken});
    std::sort(found.sources.begin(), found.sources.end(),
              [](const Source& a, const Source& b) { return a.name < b.name; });
    return found;
}

bool names_a_file(const fs::path& path) {
    std::error_code error;
    return fs::is_regular_file(path, error);
}

}  // namespace

std::string_view to_string(Split split) {
    return split == Split::train ? "train" : "val";
}

std::string_view to_string(FingerprintMode mode) {
    return mode == FingerprintMode::stat ? "stat" : "content";
}

std::string_view to_string(Source::Kind kind) {
    switch (kind) {
        case Source::Kind::directory:
            return "folder";
        case Source::Kind::tar:
            return "tar";
        case Source::Kind::archive_member:
            return "archive-member";
    }
    return "?";
}

Discovery discover_train(const fs::path& root, const wordnet::Hierarchy& wordnet,
                         const fs::path& gzip_index) {
    if (names_a_file(root)) return discover_train_archive(root, wordnet, gzip_index);
    require_folder(root, "--input");
    return discover_synsets(root, Split::train, "", "", wordnet);
}

Discovery discover_val(const fs::path& root, const wordnet::Hierarchy& wordnet) {
    if (names_a_file(root)) {
        const auto archive = open_input_archive(root, "--val-input");
        Discovery flat;
        flat.sources.push_back({"val",
                                root,
                                Source::Kind::archive_member,
                                Split::val,
                                "",
                                "val/",
                                "",
                                "",
                                0,
                                archive->size(),
                                {}});
        return flat;
    }
    require_folder(root, "--val-input");
    Discovery synsets = discover_synsets(root, Split::val, "val/", "val/", wordnet);
    // A stray sub-folder does not make a flat val folder one in synset folders.
    if (std::any_of(synsets.sources.begin(), synsets.sources.end(),
                    [](const Source& source) { return !source.wnid.empty(); })) {
        return synsets;
    }
    Discovery flat;
    flat.sources.push_back(
        {"val", root, Source::Kind::directory, Split::val, "", "val/", "", "", 0, 0, {}});
    return flat;
}

SourceListing list_source(const Source& source, std::uint64_t max_item_bytes, FingerprintMode mode,
                          std::optional<OuterListing>* walk) {
    SourceListing listing = source.kind == Source::Kind::tar
                                ? list_tar(source, max_item_bytes, mode)
                            : source.kind == Source::Kind::archive_member
                                ? list_archive_member(source, max_item_bytes, mode, walk)
                                : list_folder(source, max_item_bytes, mode);
    finish(listing);
    return listing;
}

}  // namespace synshard::corpus
