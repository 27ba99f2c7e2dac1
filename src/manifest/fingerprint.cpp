#include "synshard/manifest/fingerprint.hpp"

#include <algorithm>
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

}  // namespace synshard::manifest
