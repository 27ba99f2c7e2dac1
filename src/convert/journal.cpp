#include "synshard/convert/journal.hpp"

#include <cstdio>
#include <fstream>
#include <random>

#include "synshard/convert/options.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::convert {

namespace {

// Version 1 kept every option in one object and no comparison outcome; version 2 had
// no run id, resume fingerprint or key digests.
constexpr int kJournalVersion = 3;

// Each option whose value differs between two recorded sets, as "--name was -> now".
std::vector<std::string> option_differences(const nlohmann::ordered_json& before,
                                            const nlohmann::ordered_json& now) {
    const auto shown = [](const nlohmann::ordered_json& set, const std::string& name) {
        const auto found = set.find(name);
        return found == set.end() ? std::string("unset") : found->dump();
    };
    std::vector<std::string> differences;
    for (const auto& [name, value] : now.items()) {
        if (!before.contains(name) || before.at(name) != value)
            differences.push_back("--" + name + " " + shown(before, name) + " -> " + value.dump());
    }
    for (const auto& [name, value] : before.items()) {
        if (!now.contains(name))
            differences.push_back("--" + name + " " + value.dump() + " -> unset");
    }
    return differences;
}

}  // namespace

namespace {

template <typename Key>
std::string digest_of_keys(std::span<const Key> keys) {
    Sha256 hasher;
    for (const auto& key : keys) {
        hasher.update(std::string_view(key));
        hasher.update(std::string_view("\n"));
    }
    return to_hex(hasher.finish());
}

}  // namespace

std::string key_list_digest(std::span<const std::string_view> keys) {
    return digest_of_keys(keys);
}

std::string key_list_digest(std::span<const std::string> keys) {
    return digest_of_keys(keys);
}

std::string new_run_id() {
    std::random_device device;
    const std::uint64_t id = (std::uint64_t{device()} << 32) | device();
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(id));
    return text;
}

Journal new_journal(const std::string& input_fingerprint,
                    const manifest::ResumeFingerprint& resume_fingerprint,
                    const nlohmann::ordered_json& recorded_options) {
    Journal journal;
    journal.run_id = new_run_id();
    journal.input_fingerprint = input_fingerprint;
    journal.resume_fingerprint = resume_fingerprint;
    journal.processing_options = options_of_role(recorded_options, OptionRole::processing);
    journal.write_options = options_of_role(recorded_options, OptionRole::write);
    return journal;
}

std::filesystem::path journal_path(const std::filesystem::path& output) {
    return output / ".synshard-journal.json";
}

std::optional<Journal> read_journal(const std::filesystem::path& output) {
    const auto path = journal_path(output);
    if (!std::filesystem::exists(path)) return std::nullopt;
    try {
        std::ifstream stream(path);
        const auto json = nlohmann::ordered_json::parse(stream);
        if (json.at("journal_version").get<int>() != kJournalVersion) {
            throw Error("journal_version " + json.at("journal_version").dump() +
                        " is not this synshard's (" + std::to_string(kJournalVersion) +
                        "); rerun with --restart");
        }
        Journal journal;
        journal.run_id = json.at("run_id").get<std::string>();
        journal.input_fingerprint = json.at("input_fingerprint").get<std::string>();
        journal.resume_fingerprint =
            manifest::resume_fingerprint_from_json(json.at("resume_fingerprint"));
        journal.processing_options = json.at("processing_options");
        journal.write_options = json.at("write_options");
        for (const auto& shard : json.at("shards")) {
            PublishedShard published;
            auto& entry = published.entry;
            entry.path = shard.at("path").get<std::string>();
            entry.num_samples = shard.at("num_samples").get<std::uint64_t>();
            entry.bytes = shard.at("bytes").get<std::uint64_t>();
            entry.sha256 = shard.at("sha256").get<std::string>();
            published.keys_digest = shard.at("keys_digest").get<std::string>();
            journal.shards.emplace(entry.path, std::move(published));
        }
        journal.finished = json.at("finished").get<bool>();
        journal.exit_code = json.at("exit_code").get<int>();
        if (json.contains("expect_manifest")) {
            const auto& expectation = json.at("expect_manifest");
            journal.expectation =
                Journal::Expectation{expectation.at("reference").get<std::string>(),
                                     expectation.at("differences").get<std::vector<std::string>>()};
        }
        return journal;
    } catch (const nlohmann::json::exception& error) {
        throw Error("reading " + path.string() + ": " + error.what() +
                    " (rerun with --restart to convert from scratch)");
    } catch (const Error& error) {
        throw Error("reading " + path.string() + ": " + error.what());
    }
}

void write_journal(const std::filesystem::path& output, const Journal& journal) {
    nlohmann::ordered_json json;
    json["journal_version"] = kJournalVersion;
    json["run_id"] = journal.run_id;
    json["input_fingerprint"] = journal.input_fingerprint;
    json["resume_fingerprint"] = manifest::to_json(journal.resume_fingerprint);
    json["processing_options"] = journal.processing_options;
    json["write_options"] = journal.write_options;
    json["shards"] = nlohmann::ordered_json::array();
    for (const auto& [path, shard] : journal.shards) {
        json["shards"].push_back({{"path", shard.entry.path},
                                  {"num_samples", shard.entry.num_samples},
                                  {"bytes", shard.entry.bytes},
                                  {"sha256", shard.entry.sha256},
                                  {"keys_digest", shard.keys_digest}});
    }
    json["finished"] = journal.finished;
    json["exit_code"] = journal.exit_code;
    if (journal.expectation) {
        json["expect_manifest"] = {{"reference", journal.expectation->reference},
                                   {"differences", journal.expectation->differences}};
    }
    write_file_atomically(journal_path(output), json.dump(2) + "\n",
                          {.leftover = LeftoverTemporary::replace});
}

std::string resume_conflict(const Journal& previous, const Journal& now) {
    if (previous.input_fingerprint != now.input_fingerprint) {
        return "the inputs changed since the run that wrote this output (input fingerprint " +
               previous.input_fingerprint.substr(0, 12) + "..., now " +
               now.input_fingerprint.substr(0, 12) + "...)";
    }
    if (const auto change =
            manifest::first_change(previous.resume_fingerprint, now.resume_fingerprint);
        !change.empty()) {
        return "an input changed since the run that wrote this output: " + change;
    }
    const auto differences =
        option_differences(previous.processing_options, now.processing_options);
    if (differences.empty()) return {};
    return "option " + differences.front() + " changed since the run that wrote this output";
}

std::string write_option_changes(const Journal& previous, const Journal& now) {
    std::string text;
    for (const auto& difference : option_differences(previous.write_options, now.write_options))
        text += (text.empty() ? "" : ", ") + difference;
    return text;
}

}  // namespace synshard::convert
