#include "synshard/convert/output_files.hpp"

#include <algorithm>
#include <string>

#include "synshard/convert/journal.hpp"
#include "synshard/convert/spool_folder.hpp"
#include "synshard/corpus/archive_input.hpp"
#include "synshard/h5/format.hpp"
#include "synshard/h5/index_writer.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/output_lock.hpp"

namespace synshard::convert {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTemporarySuffix = ".tmp";

std::string lock_file_name() {
    return OutputLock::lock_path("").filename().string();
}

// The archive index and its listings, which remove_our_files() leaves.
bool is_archive_index_name(const std::string& name) {
    return name == kArchiveIndexFileName ||
           name == corpus::listings_path_for(kArchiveIndexFileName).string();
}

bool is_top_file_name(const std::string& name) {
    const std::string journal = journal_path("").filename().string();
    const std::string lock = lock_file_name();
    const std::string archive_index = kArchiveIndexFileName;
    for (const std::string& ours :
         {std::string(manifest::kManifestFileName), std::string(h5::kIndexFileName),
          std::string(kRejectedFileName), journal, lock, archive_index,
          corpus::listings_path_for(archive_index).string()}) {
        if (name == ours || name == ours + kTemporarySuffix) return true;
    }
    return false;
}

bool is_shard_or_temporary(const std::string& split, std::string name) {
    if (name.ends_with(kTemporarySuffix)) name.resize(name.size() - 4);
    return h5::is_shard_file_name(split, name);
}

// `vanished_is_empty`: a folder removed meanwhile (by another rank removing the same
// spool folder) lists as empty.
std::vector<fs::directory_entry> sorted_entries(const fs::path& folder,
                                                bool vanished_is_empty = false) {
    std::vector<fs::directory_entry> entries;
    std::error_code error;
    fs::directory_iterator it(folder, error);
    for (; !error && it != fs::directory_iterator(); it.increment(error)) entries.push_back(*it);
    if (error == std::errc::no_such_file_or_directory && vanished_is_empty) return {};
    if (error) throw Error("cannot list " + folder.string() + ": " + error.message());
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return a.path().filename() < b.path().filename();
    });
    return entries;
}

bool is_real_directory(const fs::directory_entry& entry) {
    std::error_code error;
    return entry.symlink_status(error).type() == fs::file_type::directory;
}

bool is_real_file(const fs::directory_entry& entry) {
    std::error_code error;
    return entry.symlink_status(error).type() == fs::file_type::regular;
}

// The scratch folder relative to OUT when it lies inside OUT ("." for OUT itself).
std::optional<fs::path> scratch_inside(const OutputFiles& files) {
    const fs::path relative = files.scratch.lexically_relative(files.output);
    if (relative.empty() || *relative.begin() == "..") return std::nullopt;
    return relative.lexically_normal();
}

// What a folder of OUT may hold, by its path relative to OUT.
enum class FolderRule { top, split, scratch, scratch_parent, none };

struct Walk {
    const OutputFiles& files;
    std::optional<fs::path> scratch;

    FolderRule rule_of(const fs::path& relative) const {
        if (scratch && relative == *scratch) return FolderRule::scratch;
        if (relative == "train" || relative == "val") return FolderRule::split;
        if (relative == ".scratch") return FolderRule::scratch;
        if (scratch) {
            // A folder on the way from OUT to a scratch folder deeper inside it.
            const auto [end, inside] =
                std::mismatch(relative.begin(), relative.end(), scratch->begin(), scratch->end());
            if (end == relative.end() && inside != scratch->end())
                return FolderRule::scratch_parent;
        }
        return FolderRule::none;
    }

    bool is_ours(const fs::directory_entry& entry, const fs::path& relative,
                 FolderRule parent_rule) const {
        const std::string name = entry.path().filename().string();
        if (files.user_file && entry.path() == *files.user_file) return true;
        if (is_real_directory(entry)) {
            if (parent_rule == FolderRule::scratch && is_spool_folder_name(name)) return true;
            return rule_of(relative) != FolderRule::none;
        }
        if (!is_real_file(entry)) return false;
        switch (parent_rule) {
            case FolderRule::top:
                return is_top_file_name(name);
            case FolderRule::split:
                return is_shard_or_temporary(relative.parent_path().string(), name);
            default:
                return false;
        }
    }

    std::optional<fs::path> first_foreign(const fs::path& folder, const fs::path& relative,
                                          FolderRule rule) const {
        for (const auto& entry : sorted_entries(folder)) {
            const fs::path child = relative / entry.path().filename();
            if (!is_ours(entry, child, rule)) return entry.path();
            if (!is_real_directory(entry) ||
                (rule == FolderRule::scratch && is_spool_folder_name(child.filename().string())))
                continue;  // a spool folder is ours whatever it holds
            if (auto found = first_foreign(entry.path(), child, rule_of(child))) return found;
        }
        return std::nullopt;
    }
};

void remove_file(const fs::path& path) {
    std::error_code error;
    fs::remove(path, error);
    if (error) throw Error("cannot remove " + path.string() + ": " + error.message());
}

// Removes folder when it is empty; a folder still holding something stays.
void remove_if_empty(const fs::path& folder) {
    std::error_code error;
    if (fs::is_empty(folder, error) && !error) remove_file(folder);
}

}  // namespace

bool is_spool_folder_name(const std::string& name) {
    constexpr std::string_view prefix = "synshard-";
    return name.size() == prefix.size() + 16 && name.starts_with(prefix) &&
           std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<fs::path> first_foreign_path(const OutputFiles& files) {
    std::error_code error;
    if (!fs::exists(files.output, error)) return std::nullopt;
    const Walk walk{files, scratch_inside(files)};
    const FolderRule top =
        walk.scratch && *walk.scratch == "." ? FolderRule::scratch : FolderRule::top;
    if (top == FolderRule::scratch) {
        // OUT is also the scratch folder: both rules hold at its top.
        for (const auto& entry : sorted_entries(files.output)) {
            const fs::path child = entry.path().filename();
            if (walk.is_ours(entry, child, FolderRule::scratch)) continue;
            if (!walk.is_ours(entry, child, FolderRule::top)) return entry.path();
            if (!is_real_directory(entry)) continue;
            if (auto found = walk.first_foreign(entry.path(), child, walk.rule_of(child)))
                return found;
        }
        return std::nullopt;
    }
    return walk.first_foreign(files.output, "", FolderRule::top);
}

void remove_spool_folder(const fs::path& folder) {
    std::error_code error;
    if (fs::symlink_status(folder, error).type() != fs::file_type::directory) return;
    for (const auto& source : sorted_entries(folder, true)) {
        if (!is_real_directory(source)) continue;
        for (const auto& entry : sorted_entries(source.path(), true)) {
            const std::string name = entry.path().filename().string();
            const bool written = name.ends_with(".spool") || name.ends_with(".done") ||
                                 name.ends_with(std::string(".done") + kTemporarySuffix);
            if (written && is_real_file(entry)) remove_file(entry.path());
        }
        remove_if_empty(source.path());
    }
    const auto header = spool_header_path(folder);
    if (fs::symlink_status(header, error).type() == fs::file_type::regular) remove_file(header);
    remove_if_empty(folder);
}

void remove_our_files(const OutputFiles& files) {
    std::error_code error;
    if (!fs::exists(files.output, error)) return;
    const Walk walk{files, scratch_inside(files)};
    const std::string lock = lock_file_name();
    const auto remove_in = [&](const fs::path& folder, const fs::path& relative, FolderRule rule,
                               const auto& self) -> void {
        for (const auto& entry : sorted_entries(folder)) {
            const fs::path child = relative / entry.path().filename();
            const std::string name = entry.path().filename().string();
            const bool spool = rule == FolderRule::scratch && is_spool_folder_name(name) &&
                               is_real_directory(entry);
            if (spool) {
                remove_spool_folder(entry.path());
            } else if (is_real_directory(entry) && walk.is_ours(entry, child, rule)) {
                self(entry.path(), child, walk.rule_of(child), self);
                remove_if_empty(entry.path());
            } else if (walk.is_ours(entry, child, rule) && name != lock &&
                       !(rule == FolderRule::top && is_archive_index_name(name)) &&
                       !(files.user_file && entry.path() == *files.user_file)) {
                remove_file(entry.path());
            }
        }
    };
    const bool output_is_scratch = walk.scratch && *walk.scratch == ".";
    if (output_is_scratch) remove_in(files.output, "", FolderRule::scratch, remove_in);
    remove_in(files.output, "", FolderRule::top, remove_in);
}

void remove_archive_index(const fs::path& output) {
    for (const fs::path& index : {output / kArchiveIndexFileName,
                                  corpus::listings_path_for(output / kArchiveIndexFileName)}) {
        std::error_code error;
        if (fs::symlink_status(index, error).type() == fs::file_type::regular) remove_file(index);
    }
}

void remove_output_folder(const OutputFiles& files) {
    if (const auto foreign = first_foreign_path(files)) {
        throw Error("not removing " + files.output.string() + ": it holds " + foreign->string() +
                    ", which synshard did not write");
    }
    remove_our_files(files);
    remove_archive_index(files.output);
    std::error_code error;
    if (fs::symlink_status(OutputLock::lock_path(files.output), error).type() ==
        fs::file_type::regular) {
        remove_file(OutputLock::lock_path(files.output));
    }
    if (fs::exists(files.output, error)) remove_if_empty(files.output);
}

void remove_stale_files(const fs::path& output, const std::vector<std::string>& published) {
    for (const auto& entry : sorted_entries(output)) {
        const std::string name = entry.path().filename().string();
        const bool stale = name == kRejectedFileName || name.ends_with(kTemporarySuffix);
        if (is_real_file(entry) && is_top_file_name(name) && stale) remove_file(entry.path());
    }
    for (const char* split : {"train", "val"}) {
        const fs::path folder = output / split;
        std::error_code error;
        if (!fs::is_directory(folder, error)) continue;
        for (const auto& entry : sorted_entries(folder)) {
            const std::string name = entry.path().filename().string();
            if (!is_real_file(entry) || !is_shard_or_temporary(split, name)) continue;
            if (std::find(published.begin(), published.end(), std::string(split) + "/" + name) ==
                published.end()) {
                remove_file(entry.path());
            }
        }
    }
}

}  // namespace synshard::convert
