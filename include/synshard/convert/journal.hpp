#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "synshard/manifest/manifest.hpp"

namespace synshard::convert {

// What a conversion has durably done so far, kept in OUT/.synshard-journal.json by the
// root rank and rewritten atomically after every round of shards. A rerun on the same
// output reads it to resume: published shards whose file still has the recorded size
// and sha256 are kept, everything else is redone.
struct Journal {
    std::string input_fingerprint;
    // The recorded options (as in the manifest's "options") by OptionRole: a rerun must
    // give the same processing options to resume; other write options make it rewrite
    // the shards; unchecked options are not kept here.
    nlohmann::ordered_json processing_options = nlohmann::ordered_json::object();
    nlohmann::ordered_json write_options = nlohmann::ordered_json::object();
    // Published shards by relative path.
    std::map<std::string, manifest::ShardEntry> shards;
    // Set once manifest.json is written: the output is complete.
    bool finished = false;
    // What the conversion achieved: 0, or 3 when inputs were rejected.
    int exit_code = 0;
    // The finishing run's comparison with --expect-manifest REF: REF's path and each
    // shard that differs (manifest::describe). A difference makes that run and every
    // rerun exit 1.
    struct Expectation {
        std::string reference;
        std::vector<std::string> differences;
    };
    std::optional<Expectation> expectation;
};

// The journal a fresh run starts: its fingerprint and its recorded options, sorted by role.
Journal new_journal(const std::string& input_fingerprint,
                    const nlohmann::ordered_json& recorded_options);

std::filesystem::path journal_path(const std::filesystem::path& output);

// nullopt when there is no journal; Error naming the file when it cannot be parsed.
std::optional<Journal> read_journal(const std::filesystem::path& output);
void write_journal(const std::filesystem::path& output, const Journal& journal);

// Why `previous` cannot be resumed by `now` (a new_journal() of this run), or an empty
// string when it can: the input fingerprints differ ("the inputs changed ..."), or a
// processing option differs, is set only now or only then ("option --quality changed
// ...").
std::string resume_conflict(const Journal& previous, const Journal& now);

// The write options that differ between `previous` and `now` ("--shard-size 1024 -> 4"),
// or an empty string.
std::string write_option_changes(const Journal& previous, const Journal& now);

}  // namespace synshard::convert
