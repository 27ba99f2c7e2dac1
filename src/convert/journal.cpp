#include "synshard/convert/journal.hpp"

#include <fstream>

#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::convert {

namespace {
constexpr int kJournalVersion = 1;
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
            throw Error("unknown journal_version " + json.at("journal_version").dump());
        }
        Journal journal;
        journal.input_fingerprint = json.at("input_fingerprint").get<std::string>();
        journal.options = json.at("options");
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
        return journal;
    } catch (const nlohmann::json::exception& error) {
        throw Error("reading " + path.string() + ": " + error.what() +
                    " (remove it or rerun with --restart)");
    } catch (const Error& error) {
        throw Error("reading " + path.string() + ": " + error.what());
    }
}

void write_journal(const std::filesystem::path& output, const Journal& journal) {
    nlohmann::ordered_json json;
    json["journal_version"] = kJournalVersion;
    json["input_fingerprint"] = journal.input_fingerprint;
    json["options"] = journal.options;
    json["shards"] = nlohmann::ordered_json::array();
    for (const auto& [path, shard] : journal.shards) {
        json["shards"].push_back({{"path", shard.path},
                                  {"num_samples", shard.num_samples},
                                  {"bytes", shard.bytes},
                                  {"sha256", shard.sha256}});
    }
    json["finished"] = journal.finished;
    json["exit_code"] = journal.exit_code;
    write_file_atomically(journal_path(output), json.dump(2) + "\n");
}

std::string resume_conflict(const Journal& previous, const std::string& input_fingerprint,
                            const nlohmann::ordered_json& options) {
    if (previous.input_fingerprint != input_fingerprint) {
        return "the inputs changed since the run that wrote this output (input fingerprint " +
               previous.input_fingerprint.substr(0, 12) + "..., now " +
               input_fingerprint.substr(0, 12) + "...)";
    }
    for (const auto& [name, value] : options.items()) {
        const auto before = previous.options.find(name);
        if (before == previous.options.end() || *before != value) {
            return "option --" + name + " changed since the run that wrote this output (was " +
                   (before == previous.options.end() ? std::string("unset") : before->dump()) +
                   ", now " + value.dump() + ")";
        }
    }
    for (const auto& [name, value] : previous.options.items()) {
        if (!options.contains(name))
            return "option --" + name + " was set by the previous run, not now";
    }
    return {};
}

}  // namespace synshard::convert
