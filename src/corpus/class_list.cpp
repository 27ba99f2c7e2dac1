#include "synshard/corpus/class_list.hpp"

#include <algorithm>
#include <set>

#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::corpus {

std::vector<std::string> read_class_list(const std::filesystem::path& file, std::string* content) {
    std::vector<std::uint8_t> bytes;
    try {
        bytes = read_file(file);
    } catch (const Error& error) {
        throw UsageError(std::string("--classes: ") + error.what());
    }
    if (content != nullptr) *content = content_digest(bytes);
    const std::string text(bytes.begin(), bytes.end());
    std::vector<std::string> wnids;
    std::set<std::string> seen;
    std::size_t position = 0;
    std::size_t number = 0;
    while (position < text.size()) {
        const std::size_t end = std::min(text.find('\n', position), text.size());
        std::string line = text.substr(position, end - position);
        position = end + 1;
        ++number;
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos) continue;
        const auto stop = line.find_first_of(" \t\r,", first);
        const std::string wnid =
            line.substr(first, stop == std::string::npos ? std::string::npos : stop - first);
        const std::string where = "--classes " + file.string() + ":" + std::to_string(number);
        if (!wordnet::is_wnid(wnid)) throw UsageError(where + ": '" + wnid + "' is not a wnid");
        if (!seen.insert(wnid).second) throw UsageError(where + ": " + wnid + " is listed twice");
        wnids.push_back(wnid);
    }
    if (wnids.empty()) throw UsageError("--classes " + file.string() + " lists no class");
    return wnids;
}

}  // namespace synshard::corpus
