#include "synshard/manifest/manifest.hpp"

#include <cmath>
#include <set>

#include "synshard/h5/format.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::manifest {

namespace {

Json key_groups_to_json(const std::vector<KeyGroup>& groups) {
    Json array = Json::array();
    for (const KeyGroup& group : groups) {
        array.push_back(Json{{"source_sha256", group.source_sha256}, {"keys", group.keys}});
    }
    return array;
}

std::vector<KeyGroup> key_groups_from_json(const Json& array) {
    std::vector<KeyGroup> groups;
    for (const Json& item : array) {
        groups.push_back(KeyGroup{item.at("source_sha256").get<std::string>(),
                                  item.at("keys").get<std::vector<std::string>>()});
    }
    return groups;
}

Json file_entry_to_json(const FileEntry& file) {
    return Json{{"bytes", file.bytes}, {"sha256", file.sha256}};
}

}  // namespace

PixelStats stats_of(const std::array<std::uint64_t, 3>& sum,
                    const std::array<std::uint64_t, 3>& sum_of_squares, std::uint64_t pixels) {
    PixelStats stats;
    if (pixels == 0) return stats;
    const auto count = static_cast<long double>(pixels);
    for (std::size_t c = 0; c < 3; ++c) {
        const long double mean = static_cast<long double>(sum[c]) / count;
        const long double square = static_cast<long double>(sum_of_squares[c]) / count;
        stats.mean[c] = static_cast<double>(mean);
        stats.std[c] = static_cast<double>(std::sqrt(std::max(0.0L, square - mean * mean)));
    }
    return stats;
}

void write_shard_entry(ByteWriter& writer, const ShardEntry& shard) {
    writer.put_string(shard.path);
    writer.put(shard.num_samples);
    writer.put(shard.bytes);
    writer.put_string(shard.sha256);
}

ShardEntry read_shard_entry(ByteReader& reader) {
    ShardEntry shard;
    shard.path = reader.get_string();
    shard.num_samples = reader.get<std::uint64_t>();
    shard.bytes = reader.get<std::uint64_t>();
    shard.sha256 = reader.get_string();
    return shard;
}

void write_groups(ByteWriter& writer, const std::vector<KeyGroup>& groups) {
    writer.put<std::uint64_t>(groups.size());
    for (const auto& group : groups) {
        writer.put_string(group.source_sha256);
        writer.put<std::uint64_t>(group.keys.size());
        for (const auto& key : group.keys) writer.put_string(key);
    }
}

std::vector<KeyGroup> read_groups(ByteReader& reader) {
    std::vector<KeyGroup> groups(reader.get<std::uint64_t>());
    for (auto& group : groups) {
        group.source_sha256 = reader.get_string();
        group.keys.resize(reader.get<std::uint64_t>());
        for (auto& key : group.keys) key = reader.get_string();
    }
    return groups;
}

Json to_json(const std::vector<Rejection>& rejected) {
    Json list = Json::array();
    for (const Rejection& rejection : rejected) {
        list.push_back(Json{{"key", rejection.key},
                            {"reason", std::string(to_string(rejection.reason))},
                            {"detail", rejection.detail}});
    }
    return list;
}

Json to_json(const Manifest& manifest) {
    Json environment = Json::object();
    for (const auto& [name, version] : manifest.environment) environment[name] = version;

    Json splits = Json::object();
    for (const auto& [name, split] : manifest.splits) {
        Json shards = Json::array();
        for (const ShardEntry& shard : split.shards) {
            shards.push_back(Json{{"path", shard.path},
                                  {"num_samples", shard.num_samples},
                                  {"bytes", shard.bytes},
                                  {"sha256", shard.sha256}});
        }
        splits[name] = Json{{"num_samples", split.num_samples}, {"shards", std::move(shards)}};
    }

    Json classes = Json::array();
    for (const ClassSummary& summary : manifest.classes) {
        Json counts = Json::object();
        for (const auto& [split, count] : summary.counts) counts[split] = count;
        classes.push_back(Json{{"label", summary.label},
                               {"synset", summary.synset},
                               {"words", summary.words},
                               {"counts", std::move(counts)}});
    }

    Json rejected = to_json(manifest.rejected);

    Json json;
    json["format_version"] = manifest.format_version;
    json["tool_version"] = manifest.tool_version;
    json["environment"] = std::move(environment);
    json["options"] = manifest.options;
    json["input_fingerprint"] = manifest.input_fingerprint;
    json["seed"] = manifest.seed;
    json["hash"] = manifest.hash;
    json["label_scheme"] = manifest.label_scheme;
    if (manifest.box_origin) json["box_origin"] = *manifest.box_origin;
    json["splits"] = std::move(splits);
    if (manifest.index) json["index"] = file_entry_to_json(*manifest.index);
    json["classes"] = std::move(classes);
    if (manifest.scanned) json["scanned"] = *manifest.scanned;
    json["rejected"] = std::move(rejected);
    json["duplicates"] = key_groups_to_json(manifest.duplicates);
    json["leaks"] = key_groups_to_json(manifest.leaks);
    json["stats"] = Json{{"mean", manifest.stats.mean}, {"std", manifest.stats.std}};
    json["timings"] = manifest.timings;
    Json digests = Json::object();
    for (const auto& [key, value] : json.items()) digests[key] = section_digest(value);
    json[kDigestsKey] = std::move(digests);
    return json;
}

std::string section_digest(const Json& value) {
    Sha256 digest;
    digest.update(value.dump());
    return to_hex(digest.finish());
}

std::vector<EditedSection> edited_sections(const Json& document) {
    std::vector<EditedSection> edited;
    const auto found = document.find(kDigestsKey);
    if (found == document.end() || !found->is_object()) return edited;
    const Json& digests = *found;
    const auto recorded_digest = [&](const std::string& key) {
        const auto digest = digests.find(key);
        return digest != digests.end() && digest->is_string() ? digest->get<std::string>()
                                                              : std::string();
    };
    for (const auto& [key, value] : document.items()) {
        if (key == kDigestsKey) continue;
        EditedSection section{key, recorded_digest(key), section_digest(value)};
        if (section.recorded != section.actual) edited.push_back(std::move(section));
    }
    for (const auto& [key, digest] : digests.items()) {
        if (!document.contains(key)) edited.push_back({key, recorded_digest(key), ""});
    }
    return edited;
}

Manifest from_json(const Json& json, const std::string& context) {
    try {
        Manifest manifest;
        manifest.format_version = json.at("format_version").get<std::int64_t>();
        manifest.tool_version = json.at("tool_version").get<std::string>();
        for (const auto& [name, version] : json.at("environment").items()) {
            manifest.environment.emplace_back(name, version.get<std::string>());
        }
        manifest.options = json.at("options");
        manifest.input_fingerprint = json.at("input_fingerprint").get<std::string>();
        manifest.seed = json.at("seed").get<std::uint64_t>();
        manifest.hash = json.at("hash").get<std::string>();
        manifest.label_scheme = json.at("label_scheme").get<std::string>();
        if (const auto origin = json.find("box_origin"); origin != json.end()) {
            manifest.box_origin = origin->get<std::int64_t>();
        }
        for (const auto& [name, split_json] : json.at("splits").items()) {
            SplitEntry split;
            split.num_samples = split_json.at("num_samples").get<std::uint64_t>();
            for (const Json& shard : split_json.at("shards")) {
                split.shards.push_back(ShardEntry{shard.at("path").get<std::string>(),
                                                  shard.at("num_samples").get<std::uint64_t>(),
                                                  shard.at("bytes").get<std::uint64_t>(),
                                                  shard.at("sha256").get<std::string>()});
            }
            manifest.splits.emplace(name, std::move(split));
        }
        if (const auto index = json.find("index"); index != json.end()) {
            manifest.index = FileEntry{index->at("bytes").get<std::uint64_t>(),
                                       index->at("sha256").get<std::string>()};
        }
        if (const auto scanned = json.find("scanned"); scanned != json.end()) {
            manifest.scanned = scanned->get<std::uint64_t>();
        }
        for (const Json& item : json.at("classes")) {
            ClassSummary summary;
            summary.label = item.at("label").get<std::int32_t>();
            summary.synset = item.at("synset").get<std::string>();
            summary.words = item.at("words").get<std::string>();
            summary.counts = item.at("counts").get<std::map<std::string, std::uint64_t>>();
            manifest.classes.push_back(std::move(summary));
        }
        for (const Json& item : json.at("rejected")) {
            const std::string reason_text = item.at("reason").get<std::string>();
            const std::optional<Reason> reason = parse_reason(reason_text);
            if (!reason) throw Error(context + ": unknown reject reason \"" + reason_text + "\"");
            manifest.rejected.push_back(Rejection{item.at("key").get<std::string>(), *reason,
                                                  item.at("detail").get<std::string>()});
        }
        manifest.duplicates = key_groups_from_json(json.at("duplicates"));
        manifest.leaks = key_groups_from_json(json.at("leaks"));
        manifest.stats.mean = json.at("stats").at("mean").get<std::array<double, 3>>();
        manifest.stats.std = json.at("stats").at("std").get<std::array<double, 3>>();
        manifest.timings = json.at("timings");
        return manifest;
    } catch (const Json::exception& error) {
        throw Error(context + ": " + error.what());
    }
}

void write_manifest(const std::filesystem::path& path, const Manifest& manifest) {
    write_file_atomically(path, to_json(manifest).dump(2) + "\n",
                          {.leftover = LeftoverTemporary::replace});
}

Json read_document(const std::filesystem::path& path) {
    const std::vector<std::uint8_t> bytes = read_file(path);
    Json json = Json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (json.is_discarded()) throw Error(path.string() + ": not valid JSON");
    return json;
}

Manifest read_manifest(const std::filesystem::path& path) {
    return from_json(read_document(path), path.string());
}

std::vector<ShardDifference> compare_shards(const Manifest& expected, const Manifest& actual) {
    const auto shard_hashes = [](const Manifest& manifest) {
        std::map<std::string, std::string> hashes;
        for (const auto& [name, split] : manifest.splits) {
            for (const ShardEntry& shard : split.shards) hashes[shard.path] = shard.sha256;
        }
        return hashes;
    };
    const std::map<std::string, std::string> expected_hashes = shard_hashes(expected);
    const std::map<std::string, std::string> actual_hashes = shard_hashes(actual);
    std::set<std::string> paths;
    for (const auto& [path, sha] : expected_hashes) paths.insert(path);
    for (const auto& [path, sha] : actual_hashes) paths.insert(path);
    std::vector<ShardDifference> differences;
    for (const std::string& path : paths) {
        const auto lookup = [&](const std::map<std::string, std::string>& hashes) {
            const auto found = hashes.find(path);
            return found == hashes.end() ? std::string() : found->second;
        };
        ShardDifference difference{path, lookup(expected_hashes), lookup(actual_hashes)};
        if (difference.expected_sha256 != difference.actual_sha256) {
            differences.push_back(std::move(difference));
        }
    }
    return differences;
}

std::string describe(const ShardDifference& difference) {
    const auto shown = [](const std::string& sha) { return sha.empty() ? "missing" : sha; };
    return difference.path + ": expected " + shown(difference.expected_sha256) + " got " +
           shown(difference.actual_sha256);
}

Manifest read_expected_manifest(const std::filesystem::path& reference) {
    try {
        return read_manifest(reference);
    } catch (const Error& error) {
        throw UsageError("--expect-manifest " + reference.string() +
                         " is not a synshard manifest: " + error.what());
    }
}

}  // namespace synshard::manifest
