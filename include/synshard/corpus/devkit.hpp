#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace synshard::corpus {

// One entry of the ILSVRC-2012 devkit's meta.mat `synsets` struct array.
struct DevkitSynset {
    int ilsvrc2012_id = 0;
    std::string wnid;
    std::string words;
    std::string gloss;
};

// The devkit's class metadata (read with libmatio).
struct Devkit {
    std::vector<DevkitSynset> synsets;  // in the file's order
    std::map<int, std::string> wnid_by_id;
    std::map<std::string, int> id_by_wnid;
    std::filesystem::path meta_mat;
    // The content_digest (util/hash.hpp) of meta.mat, read before libmatio reads it.
    std::string content;
};

// Reads DIR/data/meta.mat (or DIR/meta.mat, or DIR itself if it is the .mat file).
// Throws Error naming the file if it is missing, unreadable, or has no `synsets` struct
// array with fields ILSVRC2012_ID and WNID.
Devkit read_devkit(const std::filesystem::path& dir);

}  // namespace synshard::corpus
