#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "synshard/manifest/manifest.hpp"

namespace synshard::convert {

// What a conversion has durably done so far, kept in OUT/.synshard-journal.json by the
// root rank and rewritten atomically after every round of shards. A rerun on the same
// output reads it to resume: published shards whose file still has the recorded size
// and sha256 are kept, everything else is redone.
struct Journal {
    std::string input_fingerprint;
    // The options that shape the output (as in the manifest's "options").
    nlohmann::ordered_json options = nlohmann::ordered_json::object();
    // Published shards by relative path.
    std::map<std::string, manifest::ShardEntry> shards;
    // Set once manifest.json is written: the output is complete.
    bool finished = false;
    int exit_code = 0;
};

std::filesystem::path journal_path(const std::filesystem::path& output);

// nullopt when there is no journal; Error naming the file when it cannot be parsed.
std::optional<Journal> read_journal(const std::filesystem::path& output);
void write_journal(const std::filesystem::path& output, const Journal& journal);

// Why `previous` cannot be resumed by a run with these inputs and options, or an empty
// string when it can. Output-independent options (paths of OUT and scratch, verbosity)
// are not compared.
std::string resume_conflict(const Journal& previous, const std::string& input_fingerprint,
                            const nlohmann::ordered_json& options);

}  // namespace synshard::convert
