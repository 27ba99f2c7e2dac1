// data.noun files for the tests of reading WordNet by offset.
#pragma once

#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>

#include "corpus/corpus_fixture.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::testing {

// Debian's data.noun with every line but the records of `keep` (wnids) overwritten by
// '#'s, byte for byte: the kept records stay at their offsets, and a reader that parses
// any other line fails.
inline void write_data_noun_keeping(const std::filesystem::path& path,
                                    const std::set<std::string>& keep) {
    std::ifstream whole(std::filesystem::path(wordnet::kDefaultWordnetDir) / "data.noun",
                        std::ios::binary);
    if (!whole) throw std::runtime_error("cannot read the default data.noun");
    std::string bytes;
    std::size_t kept = 0;
    for (std::string line; std::getline(whole, line);) {
        if (keep.count("n" + line.substr(0, 8)) != 0) {
            ++kept;
        } else {
            line.assign(line.size(), '#');
        }
        bytes += line + "\n";
    }
    if (kept != keep.size()) throw std::runtime_error("data.noun lacks a synset to keep");
    write_bytes(path, bytes);
}

}  // namespace synshard::testing
