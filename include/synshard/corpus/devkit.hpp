#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace synshard::corpus {

// ILSVRC's classification classes are IDs 1..1000 in every year's devkit; higher IDs
// number the inner nodes of the hierarchy a meta.mat also holds.
inline constexpr int kIlsvrcClasses = 1000;

// One synset a devkit numbers: an entry of meta.mat's (meta_clsloc.mat's) `synsets`
// struct array, or a line of map_clsloc.txt.
struct DevkitSynset {
    int id = 0;  // the ILSVRC20??_ID (map_clsloc.txt's number)
    std::string wnid;
    std::string words;  // map_clsloc.txt's name, underscores turned into spaces
    std::string gloss;  // empty from map_clsloc.txt
};

// A devkit's class metadata. Every form numbers the classes alike: the 2012 devkit's
// data/meta.mat (field ILSVRC2012_ID), the later CLS-LOC devkits' data/meta_clsloc.mat
// (ILSVRC2014_ID, ...) and data/map_clsloc.txt ("nXXXXXXXX ID name" lines).
struct Devkit {
    std::vector<DevkitSynset> synsets;  // in the file's order
    std::map<int, std::string> wnid_by_id;
    std::map<std::string, int> id_by_wnid;
    // The classes' wnids by ID - 1: the synsets of IDs 1..N, N <= kIlsvrcClasses (1000
    // in every real devkit).
    std::vector<std::string> classes;
    // The file read: the .mat or map_clsloc.txt, or the archive holding it.
    std::filesystem::path file;
    // The archive member read; empty when `file` was read itself.
    std::string member;
    // The .mat's id field ("ILSVRC2012_ID", "ILSVRC2014_ID"); empty for map_clsloc.txt.
    std::string id_field;
    // The content_digest (util/hash.hpp) of the bytes read (the member's for an archive).
    std::string content;
    // An archive's ILSVRC2012_validation_ground_truth.txt (its member path and bytes), which
    // labels the official val images; empty when `file` is no archive or holds none (a
    // folder's lies beside its class file).
    std::string ground_truth_member;
    std::vector<std::uint8_t> ground_truth;

    // "<file>", or "<member> in <archive>".
    std::string origin() const;
    // Where the IDs come from: "ILSVRC2014_ID of <origin>", "the IDs of <origin>".
    std::string describe() const;
};

// Reads the devkit `path` names: a devkit folder (its data/ or top holding meta.mat,
// meta_clsloc.mat or map_clsloc.txt, first found in that order), one of those files, or
// the devkit archive (ILSVRC2012_devkit_t12.tar.gz; any tar libarchive reads) holding
// one, and its validation ground truth when it holds that too. An archive's .mat member is unpacked
// into a private folder of TMPDIR for matio, which opens files by name, and removed once read.
// Throws UsageError when there is no such file, and Error naming the file when it is unreadable, a
// .mat has no `synsets` struct array with an ILSVRC20??_ID number and a WNID, a map line is not
// "nXXXXXXXX ID name", an ID or wnid repeats, or the class IDs are not 1..N.
Devkit read_devkit(const std::filesystem::path& path);

}  // namespace synshard::corpus
