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
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <utility>
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

// What a resume is checked against besides the options (kept in the journal and spool
// headers, never in the manifest): unlike the input fingerprint it depends on where the
// inputs are and when they were written, so that an input rewritten in place with the
// same size is seen. Its inputs, each a name and a digest (hex), in this order:
//   ("--fingerprint", "stat" or "content"): how closely images are checked;
//   the metadata inputs the survey read, by name: "<option> <canonical path>" (the
//     WordNet files, --classes, the --devkit's class file (meta.mat, meta_clsloc.mat or
//     map_clsloc.txt, also read from a devkit archive), --val-labels, a --boxes CSV) or
//     "--boxes <canonical folder> for <prefix>" (the box files read for one class, or
//     for "val"), each with the XXH3-128 of the bytes read (util/hash.hpp content_digest);
//   the sources (corpus::Source::name), each with the SHA-256 of its images' key, size,
//     modification time in nanoseconds (a tar's members as their headers declare them,
//     after the tar file's own size and modification time) and, in content mode, their
//     content_digest.
// So a change is named down to the source (or a class's box files), not the image.
struct ResumeFingerprint {
    std::vector<std::pair<std::string, std::string>> inputs;

    friend bool operator==(const ResumeFingerprint&, const ResumeFingerprint&) = default;
};

// Assembles a fingerprint from the mode and the inputs in any order (metadata names start
// with "--"; sources never do). An input given twice with the same digest is one (every
// rank reads WordNet); with two digests it changed while being read: Error naming it.
ResumeFingerprint resume_fingerprint(std::string mode,
                                     std::vector<std::pair<std::string, std::string>> inputs);

// [[name, digest], ...] in the fingerprint's order, and its inverse (Error naming what is
// malformed).
nlohmann::ordered_json to_json(const ResumeFingerprint& fingerprint);
ResumeFingerprint resume_fingerprint_from_json(const nlohmann::ordered_json& json);

// SHA-256 (hex) over the lines "<name>\t<digest>\n" in the fingerprint's order.
std::string digest(const ResumeFingerprint& fingerprint);

// "" when equal; else the first input (in `before`'s order, then `now`'s) that differs,
// with what changed: "--fingerprint stat -> content", "--boxes /c/Annotation for
// n01440764 (content changed)", "n01440764 (an image's size or modification time
// changed)", "n01443537 (added)", "--classes /c/classes.txt (removed)".
std::string first_change(const ResumeFingerprint& before, const ResumeFingerprint& now);

}  // namespace synshard::manifest
