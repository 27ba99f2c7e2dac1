#include "synshard/convert/journal.hpp"

#include <fstream>

#include "synshard/convert/options.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::convert {

namespace {

// Version 1 kept every option in one object and no comparison outcome.
constexpr int kJournalVersion = 2;

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

Journal new_journal(const std::string& input_fingerprint,
                    const nlohmann::ordered_json& recorded_options) {
    Journal journal;
    journal.input_fingerprint = input_fingerprint;
    for (const auto& [name, value] : recorded_options.items()) {
        switch (option_role(name)) {
            case OptionRole::processing:
                journal.processing_options[name] = value;
                break;
            case OptionRole::write:
                journal.write_options[name] = value;
                break;
            case OptionRole::unchecked:
                break;
        }
    }
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
        journal.input_fingerprint = json.at("input_fingerprint").get<std::string>();
        journal.processing_options = json.at("processing_options");
        journal.write_options = json.at("write_options");
        for (const auto& shard : json.at("shards")) {
            manifest::ShardEntry entry;
            entry.path = shard.at("path").get<std::string>();
            entry.num_samples = shard.at("num_samples").get<std::uint64_t>();
            entry.bytes = shard.at("bytes").get<std::uint64_t>();
            entry.sha256 = shard.at("sha256").get<std::string>();
            journal.shards.emplace(entry.path, entry);
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
    json["input_fingerprint"] = journal.input_fingerprint;
    json["processing_options"] = journal.processing_options;
    json["write_options"] = journal.write_options;
    json["shards"] = nlohmann::ordered_json::array();
    for (const auto& [path, shard] : journal.shards) {
        json["shards"].push_back({{"path", shard.path},
                                  {"num_samples", shard.num_samples},
                                  {"bytes", shard.bytes},
                                  {"sha256", shard.sha256}});
    }
    json["finished"] = journal.finished;
    json["exit_code"] = journal.exit_code;
    if (journal.expectation) {
        json["expect_manifest"] = {{"reference", journal.expectation->reference},
                                   {"differences", journal.expectation->differences}};
    }
    write_file_atomically(journal_path(output), json.dump(2) + "\n");
}

std::string resume_conflict(const Journal& previous, const Journal& now) {
    if (previous.input_fingerprint != now.input_fingerprint) {
        return "the inputs changed since the run that wrote this output (input fingerprint " +
               previous.input_fingerprint.substr(0, 12) + "..., now " +
               now.input_fingerprint.substr(0, 12) + "...)";
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
