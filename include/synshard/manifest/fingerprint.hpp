#pragma once

// The input fingerprint recorded in manifests and journals, defined so that it can be
// computed without gathering every key on one rank (docs/FORMAT.md, "manifest.json"):
//
//   group digest  = SHA-256 over the lines "<key>\t<size in bytes, decimal>\n" of the
//                   group's inputs, sorted bytewise by key (then by size);
//   fingerprint   = SHA-256 over the lines "<group>\t<group digest, hex>\n", sorted
//                   bytewise by group name.
//
// A group is the unit a rank scans whole (a train synset, the val directory). Each rank
// computes the digests of its groups; only (name, 32-byte digest) pairs travel.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "synshard/util/hash.hpp"

namespace synshard::manifest {

struct InputEntry {
    std::string key;
    std::uint64_t size = 0;
};

struct GroupDigest {
    std::string group;
    Sha256Digest digest{};

    friend bool operator==(const GroupDigest&, const GroupDigest&) = default;
};

// The digest of one group's inputs, in any order.
GroupDigest group_digest(std::string group, std::vector<InputEntry> entries);

// The fingerprint (hex) over every group's digest, in any order. Throws Error if a group
// name appears twice (a group must be scanned whole by one rank).
std::string input_fingerprint(std::vector<GroupDigest> digests);

// A byte form of digests for gathering them over MPI, and its inverse (Error when bytes
// are malformed). Concatenating the encodings of several lists encodes their union.
std::vector<std::uint8_t> encode_digests(std::span<const GroupDigest> digests);
std::vector<GroupDigest> decode_digests(std::span<const std::uint8_t> bytes);

}  // namespace synshard::manifest
