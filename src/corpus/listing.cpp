#include "synshard/corpus/listing.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "synshard/corpus/archive.hpp"
#include "synshard/util/error.hpp"
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

bool is_tar_name(const std::string& name) {
    return name.size() == 13 && name.ends_with(".tar") && wordnet::is_wnid(name.substr(0, 9));
}

Discovery discover_synsets(const fs::path& root, Split split, const std::string& name_prefix,
                           const std::string& key_prefix_root) {
    Discovery found;
    std::set<std::string> folders;
    for (const auto& name : sorted_names(root)) {
        const fs::path path = root / name;
        const EntryKind kind = inspect(path);
        if (name.starts_with(".")) {
            found.rejected.push_back({name_prefix + name, Reason::hidden, "hidden entry"});
        } else if (kind.directory && wordnet::is_wnid(name)) {
            folders.insert(name);
            found.sources.push_back({name_prefix + name, path, Source::Kind::directory, split, name,
                                     key_prefix_root.empty() ? name + "/" : key_prefix_root});
        } else if (kind.regular && is_tar_name(name)) {
            const std::string wnid = name.substr(0, 9);
            found.sources.push_back({name_prefix + wnid, path, Source::Kind::tar, split, wnid,
                                     key_prefix_root.empty() ? wnid + "/" : key_prefix_root});
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
            throw UsageError(root.string() + " holds synset " + found.sources[i].wnid +
                             " both as a folder and as a tar");
        }
    }
    return found;
}

void finish(SourceListing& listing) {
    std::sort(listing.items.begin(), listing.items.end(),
              [](const ListedItem& a, const ListedItem& b) { return a.key < b.key; });
}

void keep_item(SourceListing& listing, ListedItem item, std::uint64_t max_item_bytes) {
    if (item.size > max_item_bytes) {
        listing.rejected.push_back({item.key, Reason::too_large,
                                    std::to_string(item.size) + " bytes, over --max-member-bytes " +
                                        std::to_string(max_item_bytes)});
        return;
    }
    listing.items.push_back(std::move(item));
}

SourceListing list_folder(const Source& source, std::uint64_t max_item_bytes) {
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
        keep_item(listing, {key, name, kind.size}, max_item_bytes);
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

SourceListing list_tar(const Source& source, std::uint64_t max_item_bytes) {
    SourceListing listing;
    std::set<std::string> names;
    std::size_t members = 0;
    try {
        ArchiveReader reader(source.path);
        while (auto header = reader.next()) {
            ++members;
            std::string path = header->path;
            while (path.starts_with("./")) path.erase(0, 2);
            // Tars made with `tar cf nX.tar nX/` put every member under the synset's folder.
            if (path.starts_with(source.wnid + "/")) path.erase(0, source.wnid.size() + 1);
            if (header->type == MemberHeader::Type::directory &&
                (path.empty() || path == "." || path == source.wnid)) {
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
            } else {
                keep_item(listing,
                          {key, header->path, static_cast<std::uint64_t>(header->declared_size)},
                          max_item_bytes);
            }
        }
    } catch (const ArchiveError& error) {
        listing.rejected.push_back(
            {source.wnid + ".tar", Reason::archive_error,
             "after " + std::to_string(members) + " member(s): " + error.what()});
    }
    return listing;
}

}  // namespace

std::string_view to_string(Split split) {
    return split == Split::train ? "train" : "val";
}

Discovery discover_train(const fs::path& root) {
    require_folder(root, "--input");
    return discover_synsets(root, Split::train, "", "");
}

Discovery discover_val(const fs::path& root) {
    require_folder(root, "--val-input");
    Discovery synsets = discover_synsets(root, Split::val, "val/", "val/");
    if (!synsets.sources.empty()) return synsets;
    Discovery flat;
    flat.sources.push_back({"val", root, Source::Kind::directory, Split::val, "", "val/"});
    return flat;
}

SourceListing list_source(const Source& source, std::uint64_t max_item_bytes) {
    SourceListing listing = source.kind == Source::Kind::tar ? list_tar(source, max_item_bytes)
                                                             : list_folder(source, max_item_bytes);
    finish(listing);
    return listing;
}

}  // namespace synshard::corpus
