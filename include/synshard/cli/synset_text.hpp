#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace synshard::cli {

// The first of a synset's words: "tench" of "tench, Tinca tinca".
std::string first_word(std::string_view words);

// A hypernym path as hierarchy and inspect --class print it, from the root down:
// "entity > physical entity > ... > tench". `words` are the synsets' words, root first.
std::string path_text(const std::vector<std::string>& words);

}  // namespace synshard::cli
