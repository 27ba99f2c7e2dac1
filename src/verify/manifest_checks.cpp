#include <algorithm>
#include <map>
#include <set>

#include "checks.hpp"
#include "synshard/convert/output_files.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::verify {

void check_digests(const manifest::Json& document, Report& report) {
    ProblemList problems(manifest::kManifestFileName, report);
    if (!document.is_object() || !document.contains(manifest::kDigestsKey)) {
        problems.add(
            "records no section digests (written by an older synshard): an edit cannot "
            "be told");
        return;
    }
    for (const auto& [key, recorded, actual] : manifest::edited_sections(document)) {
        if (recorded.empty()) {
            problems.add("the " + key + " section has no digest");
        } else if (actual.empty()) {
            problems.add("the " + key + " section is missing (its digest " + recorded + ")");
        } else {
            problems.add("the " + key + " section was edited (digest " + actual + ", recorded " +
                         recorded + ")");
        }
    }
}

std::optional<std::filesystem::path> foreign_path(const std::filesystem::path& output,
                                                  Report& report) {
    try {
        const std::filesystem::path canonical = canonical_path(output);
        auto found = convert::first_foreign_path({canonical, canonical / ".scratch", std::nullopt});
        if (found) {
            const std::string relative = found->lexically_relative(canonical).string();
            report.problems.push_back(
                {relative,
                 "synshard did not write this (and verify reports only the first such "
                 "path)"});
        }
        return found;
    } catch (const Error& error) {
        report.problems.push_back({".", error.what()});
        return std::nullopt;
    }
}

void check_manifest(const std::filesystem::path& output, const manifest::Manifest& manifest,
                    const std::optional<std::filesystem::path>& foreign, Report& report) {
    ProblemList problems(manifest::kManifestFileName, report);
    if (!h5::is_readable_format_version(manifest.format_version)) {
        std::string readable;
        for (const auto version : h5::kReadableFormatVersions)
            readable += (readable.empty() ? "" : ", ") + std::to_string(version);
        problems.add("format_version " + std::to_string(manifest.format_version) +
                     " is not one this synshard reads (" + readable + ")");
    }
    for (std::size_t c = 0; c < manifest.classes.size(); ++c) {
        if (manifest.classes[c].label != static_cast<std::int32_t>(c)) {
            problems.add("classes[" + std::to_string(c) + "] has label " +
                         std::to_string(manifest.classes[c].label));
        }
    }
    // The seed is recorded twice: as the option given and as the seed the run used.
    if (manifest.options.is_object() && manifest.options.contains("seed") &&
        manifest.options.at("seed") != manifest::Json(manifest.seed)) {
        problems.add("options.seed is " + manifest.options.at("seed").dump() + ", seed " +
                     std::to_string(manifest.seed));
    }
    for (const auto& [split, entry] : manifest.splits) {
        std::uint64_t total = 0;
        std::set<std::string> listed;
        for (std::size_t i = 0; i < entry.shards.size(); ++i) {
            const auto& shard = entry.shards[i];
            total += shard.num_samples;
            const std::string expected =
                h5::shard_relative_path(split, static_cast<std::int64_t>(i),
                                        static_cast<std::int64_t>(entry.shards.size()));
            if (shard.path != expected) {
                problems.add("splits." + split + ".shards[" + std::to_string(i) + "] is " +
                             shard.path + ", expected " + expected);
            }
            listed.insert(std::filesystem::path(shard.path).filename().string());
        }
        if (total != entry.num_samples) {
            problems.add("splits." + split + ".num_samples is " +
                         std::to_string(entry.num_samples) + " but its shards hold " +
                         std::to_string(total));
        }
        std::error_code error;
        for (const auto& file : std::filesystem::directory_iterator(output / split, error)) {
            const std::string name = file.path().filename().string();
            if (listed.count(name) == 0 &&
                !(foreign && std::filesystem::equivalent(file.path(), *foreign, error))) {
                report.problems.push_back(
                    {split + "/" + name,
                     "not listed in the manifest (a leftover of a failed run, or a copy?)"});
            }
        }
    }
}

namespace {

// Whether `key` is among a split's index entries (sorted by key).
bool holds_key(const std::vector<h5::KeyLocation>& entries, const std::string& key) {
    const auto found = std::lower_bound(
        entries.begin(), entries.end(), key,
        [](const h5::KeyLocation& entry, const std::string& wanted) { return entry.key < wanted; });
    return found != entries.end() && found->key == key;
}

}  // namespace

void check_accounting(const manifest::Manifest& manifest, const IndexView* index, Report& report) {
    ProblemList problems(manifest::kManifestFileName, report);
    std::uint64_t kept = 0;
    for (const auto& [split, entry] : manifest.splits) kept += entry.num_samples;
    const std::uint64_t rejected = manifest.rejected.size();
    if (!manifest.scanned) {
        problems.add(
            "records no scanned count (written by an older synshard): the accounting "
            "cannot be checked");
    } else if (kept + rejected != *manifest.scanned) {
        problems.add("the accounting does not add up: " + std::to_string(kept) + " kept + " +
                     std::to_string(rejected) + " rejected = " + std::to_string(kept + rejected) +
                     ", but scanned is " + std::to_string(*manifest.scanned));
    }
    const auto is_kept = [&](const std::string& key) {
        return index != nullptr &&
               std::any_of(index->keys.begin(), index->keys.end(),
                           [&](const auto& split) { return holds_key(split.second, key); });
    };
    std::map<std::string, Reason> reasons;
    for (const Rejection& rejection : manifest.rejected) {
        if (!reasons.emplace(rejection.key, rejection.reason).second) {
            problems.add("rejected lists \"" + rejection.key + "\" more than once");
        }
        if (is_kept(rejection.key)) {
            problems.add("rejected lists \"" + rejection.key + "\", which is in a shard");
        }
    }
    std::set<std::string> grouped;
    for (std::size_t g = 0; g < manifest.duplicates.size(); ++g) {
        const auto& group = manifest.duplicates[g];
        const std::string name = "duplicates[" + std::to_string(g) + "]";
        if (group.keys.size() < 2) problems.add(name + " holds fewer than two keys");
        for (const auto& key : group.keys) {
            grouped.insert(key);
            if (reasons.count(key) == 0 && index != nullptr && !is_kept(key)) {
                problems.add(name + " names \"" + key +
                             "\", which is neither in a shard nor rejected");
            }
        }
    }
    for (const auto& [key, reason] : reasons) {
        if (reason == Reason::duplicate && grouped.count(key) == 0) {
            problems.add("rejected lists \"" + key +
                         "\" as a duplicate, but no duplicates group "
                         "names it");
        }
    }
    for (std::size_t g = 0; g < manifest.leaks.size(); ++g) {
        if (std::find(manifest.duplicates.begin(), manifest.duplicates.end(), manifest.leaks[g]) ==
            manifest.duplicates.end()) {
            problems.add("leaks[" + std::to_string(g) + "] is not one of the duplicates groups");
        }
    }
}

void check_expectation(const std::filesystem::path& reference, const manifest::Manifest& manifest,
                       Report& report) {
    try {
        for (const auto& difference :
             manifest::compare_shards(manifest::read_manifest(reference), manifest)) {
            const auto shown = [](const std::string& sha) { return sha.empty() ? "missing" : sha; };
            report.problems.push_back(
                {difference.path, "sha256 " + shown(difference.actual_sha256) + ", the reference " +
                                      reference.string() + " has " +
                                      shown(difference.expected_sha256)});
        }
    } catch (const Error& error) {
        report.problems.push_back({reference.string(), error.what()});
    }
}

}  // namespace synshard::verify
