#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace synshard::corpus {

// A --classes file: LOC_synset_mapping.txt ("n01440764 tench, Tinca tinca") or one wnid a
// line, in any of the forms TextRows (util/text_lines.hpp) takes as the clean file.
// Returns the wnids in file order. Throws UsageError naming the file and line for a row
// whose first field is no wnid, or for a wnid listed twice; UsageError naming --classes
// when the file cannot be read or lists no class. Sets *content, when given, to the
// content_digest (util/hash.hpp) of the bytes read.
std::vector<std::string> read_class_list(const std::filesystem::path& file,
                                         std::string* content = nullptr);

}  // namespace synshard::corpus
