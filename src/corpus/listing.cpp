#include "synshard/corpus/listing.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "mtime.hpp"
#include "synshard/corpus/archive.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
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
            found.sources.push_back(
                {name_prefix + stem, path, tar ? Source::Kind::tar : Source::Kind::directory, split,
                 detail.empty() ? stem : std::string(),
                 key_prefix_root.empty() ? stem + "/" : key_prefix_root, std::move(detail)});
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
        if (keep_item(listing, {key, name, kind.size, kind.mtime_ns, {}}, max_item_bytes) &&
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

SourceListing list_tar(const Source& source, std::uint64_t max_item_bytes, FingerprintMode mode) {
    SourceListing listing;
    std::set<std::string> names;
    std::size_t members = 0;
    // "n01440764" for n01440764.tar (or "cats" for cats.tar).
    const std::string stem = source.path.stem().string();
    try {
        ArchiveReader reader(source.path);
        listing.archive_size = reader.file_size();
        listing.archive_mtime_ns = reader.file_mtime_ns();
        while (auto header = reader.next()) {
            ++members;
            std::string path = header->path;
            while (path.starts_with("./")) path.erase(0, 2);
            // Tars made with `tar cf nX.tar nX/` put every member under the synset's folder.
            if (path.starts_with(stem + "/")) path.erase(0, stem.size() + 1);
            if (header->type == MemberHeader::Type::directory &&
                (path.empty() || path == "." || path == stem)) {
                continue;
            }
            const std::string key = source.key_prefix + path;
            if (is_unsafe_member_path(header->path)) {
                listing.rejected.push_back({source.key_prefix + header->path, Reason::unsafe_path,
                                            "member path escapes the archive"});
            } else if (header->type != MemberHeader::Type::regular) {
                listing.rejected.push_back({key, Reason::not_a_file, member_detail(header->type)});
            } else if (path.find('/') != std::string::npos) {
                listing.rejected.push_back({key, Reason::not_a_file, "member inside a sub-folder"});
            } else if (path.starts_with(".")) {
                listing.rejected.push_back({key, Reason::hidden, "hidden file"});
            } else if (!names.insert(path).second) {
                listing.rejected.push_back(
                    {key, Reason::duplicate, "member name repeated in the tar; first copy kept"});
            } else if (keep_item(listing,
                                 {key,
                                  header->path,
                                  static_cast<std::uint64_t>(header->declared_size),
                                  header->mtime_ns,
                                  {}},
                                 max_item_bytes) &&
                       mode == FingerprintMode::content) {
                listing.items.back().content = member_content(reader, header->declared_size);
            }
        }
    } catch (const ArchiveError& error) {
        listing.rejected.push_back(
            {source.path.filename().string(), Reason::archive_error,
             "after " + std::to_string(members) + " member(s): " + error.what()});
    }
    return listing;
}

}  // namespace

std::string_view to_string(Split split) {
    return split == Split::train ? "train" : "val";
}

std::string_view to_string(FingerprintMode mode) {
    return mode == FingerprintMode::stat ? "stat" : "content";
}

Discovery discover_train(const fs::path& root, const wordnet::Hierarchy& wordnet) {
    require_folder(root, "--input");
    return discover_synsets(root, Split::train, "", "", wordnet);
}

Discovery discover_val(const fs::path& root, const wordnet::Hierarchy& wordnet) {
    require_folder(root, "--val-input");
    Discovery synsets = discover_synsets(root, Split::val, "val/", "val/", wordnet);
    // A stray sub-folder does not make a flat val folder one in synset folders.
    if (std::any_of(synsets.sources.begin(), synsets.sources.end(),
                    [](const Source& source) { return !source.wnid.empty(); })) {
        return synsets;
    }
    Discovery flat;
    flat.sources.push_back({"val", root, Source::Kind::directory, Split::val, "", "val/", ""});
    return flat;
}

SourceListing list_source(const Source& source, std::uint64_t max_item_bytes,
                          FingerprintMode mode) {
    SourceListing listing = source.kind == Source::Kind::tar
                                ? list_tar(source, max_item_bytes, mode)
                                : list_folder(source, max_item_bytes, mode);
    finish(listing);
    return listing;
}

}  // namespace synshard::corpus
