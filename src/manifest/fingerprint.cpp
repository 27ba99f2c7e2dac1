#include "synshard/manifest/fingerprint.hpp"

#include <algorithm>
#include <map>
#include <string_view>

#include "synshard/util/error.hpp"

namespace synshard::manifest {

GroupDigest group_digest(std::string group, std::vector<InputEntry> entries) {
    std::sort(entries.begin(), entries.end(), [](const InputEntry& a, const InputEntry& b) {
        return a.key != b.key ? a.key < b.key : a.size < b.size;
    });
    Sha256 hasher;
    for (const InputEntry& entry : entries) {
        hasher.update(entry.key + "\t" + std::to_string(entry.size) + "\n");
    }
    return GroupDigest{std::move(group), hasher.finish()};
}

std::string input_fingerprint(std::vector<GroupDigest> digests) {
    std::sort(digests.begin(), digests.end(),
              [](const GroupDigest& a, const GroupDigest& b) { return a.group < b.group; });
    Sha256 hasher;
    for (std::size_t i = 0; i < digests.size(); ++i) {
        if (i > 0 && digests[i].group == digests[i - 1].group) {
            throw Error("input fingerprint: group \"" + digests[i].group + "\" scanned twice");
        }
        hasher.update(digests[i].group + "\t" + to_hex(digests[i].digest) + "\n");
    }
    const Sha256Digest fingerprint = hasher.finish();
    return to_hex(fingerprint);
}

// Each digest: group name length (4 bytes, little-endian), the name, the 32-byte digest.
std::vector<std::uint8_t> encode_digests(std::span<const GroupDigest> digests) {
    std::vector<std::uint8_t> bytes;
    for (const GroupDigest& digest : digests) {
        const auto length = static_cast<std::uint32_t>(digest.group.size());
        for (int shift = 0; shift < 32; shift += 8) {
            bytes.push_back(static_cast<std::uint8_t>(length >> shift));
        }
        bytes.insert(bytes.end(), digest.group.begin(), digest.group.end());
        bytes.insert(bytes.end(), digest.digest.begin(), digest.digest.end());
    }
    return bytes;
}

std::vector<GroupDigest> decode_digests(std::span<const std::uint8_t> bytes) {
    std::vector<GroupDigest> digests;
    while (!bytes.empty()) {
        if (bytes.size() < 4) throw Error("input fingerprint: truncated digest list");
        std::uint32_t length = 0;
        for (int i = 0; i < 4; ++i) length |= static_cast<std::uint32_t>(bytes[i]) << (8 * i);
        bytes = bytes.subspan(4);
        if (bytes.size() < length + std::size_t{32}) {
            throw Error("input fingerprint: truncated digest list");
        }
        GroupDigest digest;
        digest.group.assign(bytes.begin(), bytes.begin() + length);
        std::copy_n(bytes.begin() + length, 32, digest.digest.begin());
        digests.push_back(std::move(digest));
        bytes = bytes.subspan(length + 32);
    }
    return digests;
}

namespace {

constexpr std::string_view kModeName = "--fingerprint";

bool names_metadata(std::string_view name) {
    return name.starts_with("--");
}

const std::string& mode_of(const ResumeFingerprint& fingerprint) {
    static const std::string none;
    return !fingerprint.inputs.empty() && fingerprint.inputs.front().first == kModeName
               ? fingerprint.inputs.front().second
               : none;
}

std::string what_changed(const std::string& name, const std::string& mode) {
    if (names_metadata(name)) return name + " (content changed)";
    return name + (mode == "content" ? " (an image's size, modification time or content changed)"
                                     : " (an image's size or modification time changed)");
}

}  // namespace

ResumeFingerprint resume_fingerprint(std::string mode,
                                     std::vector<std::pair<std::string, std::string>> inputs) {
    std::sort(inputs.begin(), inputs.end(), [](const auto& a, const auto& b) {
        const bool a_metadata = names_metadata(a.first);
        const bool b_metadata = names_metadata(b.first);
        return a_metadata != b_metadata ? a_metadata : a < b;
    });
    inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
    ResumeFingerprint fingerprint;
    fingerprint.inputs.reserve(inputs.size() + 1);
    fingerprint.inputs.emplace_back(kModeName, std::move(mode));
    for (auto& input : inputs) {
        if (input.first == fingerprint.inputs.back().first) {
            throw Error("resume fingerprint: " + input.first +
                        " read twice with different contents (it changed while being read)");
        }
        fingerprint.inputs.push_back(std::move(input));
    }
    return fingerprint;
}

nlohmann::ordered_json to_json(const ResumeFingerprint& fingerprint) {
    nlohmann::ordered_json json = nlohmann::ordered_json::array();
    for (const auto& [name, digest] : fingerprint.inputs) json.push_back({name, digest});
    return json;
}

ResumeFingerprint resume_fingerprint_from_json(const nlohmann::ordered_json& json) {
    if (!json.is_array()) throw Error("resume fingerprint: not a list of [name, digest]");
    ResumeFingerprint fingerprint;
    for (const auto& input : json) {
        if (!input.is_array() || input.size() != 2 || !input[0].is_string() ||
            !input[1].is_string()) {
            throw Error("resume fingerprint: " + input.dump() + " is not [name, digest]");
        }
        fingerprint.inputs.emplace_back(input[0].get<std::string>(), input[1].get<std::string>());
    }
    if (mode_of(fingerprint).empty()) {
        throw Error("resume fingerprint: it does not start with the --fingerprint mode");
    }
    return fingerprint;
}

std::string digest(const ResumeFingerprint& fingerprint) {
    Sha256 hasher;
    for (const auto& [name, digest] : fingerprint.inputs)
        hasher.update(name + "\t" + digest + "\n");
    return to_hex(hasher.finish());
}

std::string first_change(const ResumeFingerprint& before, const ResumeFingerprint& now) {
    if (mode_of(before) != mode_of(now))
        return std::string(kModeName) + " " + mode_of(before) + " -> " + mode_of(now);
    const std::map<std::string_view, std::string_view> now_digests(now.inputs.begin(),
                                                                   now.inputs.end());
    for (const auto& [name, digest] : before.inputs) {
        const auto found = now_digests.find(name);
        if (found == now_digests.end()) return name + " (removed)";
        if (found->second != digest) return what_changed(name, mode_of(now));
    }
    const std::map<std::string_view, std::string_view> before_digests(before.inputs.begin(),
                                                                      before.inputs.end());
    for (const auto& [name, digest] : now.inputs) {
        if (before_digests.count(name) == 0) return name + " (added)";
    }
    return {};
}

}  // namespace synshard::manifest
