#include "synshard/corpus/class_list.hpp"

#include <set>

#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/text_lines.hpp"
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
    std::vector<std::string> wnids;
    std::set<std::string, std::less<>> seen;
    TextRows rows(as_text(bytes));
    while (const auto row = rows.next()) {
        const std::string_view wnid = TextFields(row->text).next();
        const auto where = [&] {
            return "--classes " + file.string() + ":" + std::to_string(row->number);
        };
        if (!wordnet::is_wnid(wnid))
            throw UsageError(where() + ": '" + std::string(wnid) + "' is not a wnid");
        if (!seen.emplace(wnid).second)
            throw UsageError(where() + ": " + std::string(wnid) + " is listed twice");
        wnids.emplace_back(wnid);
    }
    if (wnids.empty()) throw UsageError("--classes " + file.string() + " lists no class");
    return wnids;
}

}  // namespace synshard::corpus
