#include "synshard/h5/class_table_io.hpp"

#include <algorithm>

#include "synshard/util/error.hpp"

namespace synshard::h5 {

void write_class_table(Location& group, const ClassTable& table, ClassTableContent content) {
    std::vector<std::string> synsets;
    std::vector<std::string> words;
    std::vector<std::string> glosses;
    std::vector<std::string> ancestors;
    std::vector<std::uint64_t> ancestor_offsets{0};
    for (const ClassEntry& entry : table.classes) {
        synsets.push_back(entry.synset);
        words.push_back(entry.words);
        glosses.push_back(entry.gloss);
        ancestors.insert(ancestors.end(), entry.ancestors.begin(), entry.ancestors.end());
        ancestor_offsets.push_back(ancestors.size());
    }
    for (const auto* wnids : {&synsets, &ancestors}) {
        for (const std::string& wnid : *wnids) {
            if (wnid.size() != kWnidLength) {
                throw Error(group.context() + ": class table: \"" + wnid + "\" is not a wnid");
            }
        }
    }
    group.write_fixed_ascii(class_table::kSynsets, synsets, kWnidLength).close();
    group.write_strings(class_table::kWords, words).close();
    if (content == ClassTableContent::for_index)
        group.write_strings(class_table::kGlosses, glosses).close();
    group.write_fixed_ascii(class_table::kAncestors, ancestors, kWnidLength).close();
    group.write_vector<std::uint64_t>(class_table::kAncestorOffsets, ancestor_offsets).close();
}

ClassTable read_class_table(const Location& group) {
    const std::vector<std::string> synsets =
        group.open_dataset(class_table::kSynsets).read_strings();
    const std::vector<std::string> words = group.open_dataset(class_table::kWords).read_strings();
    const std::vector<std::string> ancestors =
        group.open_dataset(class_table::kAncestors).read_strings();
    const std::vector<std::uint64_t> offsets =
        group.open_dataset(class_table::kAncestorOffsets).read<std::uint64_t>();
    std::vector<std::string> glosses;
    if (group.exists(class_table::kGlosses)) {
        glosses = group.open_dataset(class_table::kGlosses).read_strings();
    }
    const bool consistent = words.size() == synsets.size() &&
                            offsets.size() == synsets.size() + 1 && offsets.front() == 0 &&
                            offsets.back() == ancestors.size() &&
                            std::is_sorted(offsets.begin(), offsets.end()) &&
                            (glosses.empty() || glosses.size() == synsets.size());
    if (!consistent) throw Error(group.context() + ": inconsistent class table");
    ClassTable table;
    for (std::size_t c = 0; c < synsets.size(); ++c) {
        ClassEntry entry;
        entry.synset = synsets[c];
        entry.words = words[c];
        if (!glosses.empty()) entry.gloss = glosses[c];
        entry.ancestors.assign(ancestors.begin() + static_cast<std::ptrdiff_t>(offsets[c]),
                               ancestors.begin() + static_cast<std::ptrdiff_t>(offsets[c + 1]));
        table.classes.push_back(std::move(entry));
    }
    return table;
}

}  // namespace synshard::h5
