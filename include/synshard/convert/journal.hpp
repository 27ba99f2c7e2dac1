#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "synshard/manifest/fingerprint.hpp"
#include "synshard/manifest/manifest.hpp"

namespace synshard::convert {

// SHA-256 (hex) over the lines "<key>\n" of a shard's keys in row order.
std::string key_list_digest(std::span<const std::string_view> keys);
std::string key_list_digest(std::span<const std::string> keys);

// A shard an earlier round published, as the journal keeps it.
struct PublishedShard {
    manifest::ShardEntry entry;
    // key_list_digest() of the shard's keys in row order: a rerun keeps the shard only if
    // its own assignment gives the shard exactly these keys.
    std::string keys_digest;
};

// What a conversion has durably done so far, kept in OUT/.synshard-journal.json by the
// root rank and rewritten atomically after every round of shards. A rerun on the same
// output reads it to resume; the comparisons it makes are those of resume_conflict()
// and write_option_changes(), and a published shard is kept only when its file still has
// the recorded size and sha256 and the rerun's assignment gives it the recorded keys.
struct Journal {
    // 16 hex digits drawn when a run starts fresh: its spool folders are
    // <scratch>/synshard-<run_id> (on every node's scratch), and only a run that resumes
    // this journal reads them.
    std::string run_id;
    std::string input_fingerprint;
    // Sizes and modification times of the images (with --fingerprint content, their
    // contents too) and the contents of the metadata files: kept here and in the spool
    // folders' headers, never in the manifest.
    manifest::ResumeFingerprint resume_fingerprint;
    // The recorded options (as in the manifest's "options") by OptionRole: a rerun must
    // give the same processing options to resume; other write options make it rewrite
    // the shards; unchecked options are not kept here.
    nlohmann::ordered_json processing_options = nlohmann::ordered_json::object();
    nlohmann::ordered_json write_options = nlohmann::ordered_json::object();
    // Published shards by relative path.
    std::map<std::string, PublishedShard> shards;
    // Set, with exit_code and expectation, just before manifest.json is written: the
    // output is complete when manifest.json exists too.
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

// The journal a fresh run starts: a new run id, its fingerprints and its recorded
// options, sorted by role.
Journal new_journal(const std::string& input_fingerprint,
                    const manifest::ResumeFingerprint& resume_fingerprint,
                    const nlohmann::ordered_json& recorded_options);

// 16 random lower-case hex digits.
std::string new_run_id();

std::filesystem::path journal_path(const std::filesystem::path& output);

// nullopt when there is no journal; Error naming the file when it cannot be parsed.
std::optional<Journal> read_journal(const std::filesystem::path& output);
void write_journal(const std::filesystem::path& output, const Journal& journal);

// Why `previous` cannot be resumed by `now` (a new_journal() of this run), or an empty
// string when it can. Compared in this order, the first difference named: the input
// fingerprints (keys and sizes: "the inputs changed ..."), the resume fingerprints (the
// first changed input: "n01440764 changed ..."), then each processing option, set in
// both, only now or only then ("option --quality 90 -> 80 changed ..."). The run ids,
// the write options and the shards are not compared.
std::string resume_conflict(const Journal& previous, const Journal& now);

// The write options that differ between `previous` and `now` ("--shard-size 1024 -> 4"),
// or an empty string.
std::string write_option_changes(const Journal& previous, const Journal& now);

}  // namespace synshard::convert
