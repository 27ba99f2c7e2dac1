#include "synshard/wordnet/hierarchy.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <functional>
#include <set>
#include <sstream>

#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/text_lines.hpp"

namespace synshard::wordnet {
namespace {

std::uint32_t wnid_number(std::string_view wnid) {
    std::uint32_t number = 0;
    std::from_chars(wnid.data() + 1, wnid.data() + wnid.size(), number);
    return number;
}

std::vector<std::uint8_t> load_bytes(const std::filesystem::path& path,
                                     std::vector<Hierarchy::File>& files) {
    auto bytes = read_file(path);
    files.push_back({path, content_digest(bytes)});
    return bytes;
}

// One data.noun record: "offset lex ss_type w_cnt(hex) word lex_id ... p_cnt ptr... | gloss".
Synset parse_data_noun_line(std::string_view line, const std::filesystem::path& path,
                            std::size_t line_number) {
    const auto bar = line.find(" | ");
    TextFields fields(line.substr(0, bar));
    const auto malformed = [&] {
        return Error(path.string() + ":" + std::to_string(line_number) +
                     ": malformed data.noun record");
    };
    const auto offset = fields.next();
    fields.next();  // lexicographer file
    fields.next();  // synset type
    const auto word_count_field = fields.next();
    unsigned word_count = 0;
    if (offset.size() != 8 ||
        std::from_chars(word_count_field.data(), word_count_field.data() + word_count_field.size(),
                        word_count, 16)
                .ec != std::errc{}) {
        throw malformed();
    }
    Synset synset;
    synset.wnid.reserve(offset.size() + 1);
    synset.wnid.push_back('n');
    synset.wnid.append(offset);
    for (unsigned i = 0; i < word_count; ++i) {
        const auto word = fields.next();
        if (word.empty() || fields.next().empty()) throw malformed();  // word, lex_id
        if (!synset.words.empty()) synset.words += ", ";
        const std::size_t start = synset.words.size();
        synset.words.append(word);
        std::replace(synset.words.begin() + static_cast<std::ptrdiff_t>(start), synset.words.end(),
                     '_', ' ');
    }
    const auto pointer_count_field = fields.next();
    if (pointer_count_field.empty()) throw malformed();
    unsigned pointer_count = 0;
    std::from_chars(pointer_count_field.data(),
                    pointer_count_field.data() + pointer_count_field.size(), pointer_count);
    for (unsigned i = 0; i < pointer_count; ++i) {
        const auto symbol = fields.next();
        const auto target = fields.next();
        const auto part_of_speech = fields.next();
        if (fields.next().empty()) throw malformed();  // source/target word numbers
        if ((symbol == "@" || symbol == "@i") && part_of_speech == "n") {
            auto& parent = synset.parents.emplace_back();
            parent.reserve(target.size() + 1);
            parent.push_back('n');
            parent.append(target);
        }
    }
    if (bar != std::string_view::npos) synset.gloss = trim_blanks(line.substr(bar + 3));
    return synset;
}

std::vector<Synset> read_data_noun(const std::filesystem::path& path,
                                   std::vector<Hierarchy::File>& files) {
    const auto bytes = load_bytes(path, files);
    std::vector<Synset> synsets;
    synsets.reserve(90000);
    TextLines lines(as_text(bytes));
    while (const auto line = lines.next()) {
        if (line->text.empty() || line->text[0] == ' ') continue;  // the licence header
        synsets.push_back(parse_data_noun_line(line->text, path, line->number));
    }
    return synsets;
}

// words.txt / gloss.txt: "wnid<TAB>text".
void read_tab_file(const std::filesystem::path& path, std::vector<Hierarchy::File>& files,
                   const std::function<void(std::string_view, std::string_view)>& take) {
    const auto bytes = load_bytes(path, files);
    TextRows rows(as_text(bytes));
    while (const auto row = rows.next()) {
        TextFields fields(row->text);
        const auto wnid = fields.next();
        if (!is_wnid(wnid) || fields.at_end()) {
            throw Error(path.string() + ":" + std::to_string(row->number) +
                        ": expected 'wnid<TAB>text'");
        }
        take(wnid, fields.rest());
    }
}

std::vector<Synset> read_imagenet_files(const std::filesystem::path& folder,
                                        std::vector<Hierarchy::File>& files) {
    std::vector<Synset> synsets;
    std::unordered_map<std::string, std::size_t> index;
    const auto entry = [&](std::string_view wnid) -> Synset& {
        const auto [found, inserted] = index.try_emplace(std::string(wnid), synsets.size());
        if (inserted) {
            synsets.emplace_back();
            synsets.back().wnid = wnid;
        }
        return synsets[found->second];
    };
    read_tab_file(folder / "words.txt", files, [&](std::string_view wnid, std::string_view words) {
        entry(wnid).words = words;
    });
    if (std::filesystem::exists(folder / "gloss.txt")) {
        read_tab_file(
            folder / "gloss.txt", files,
            [&](std::string_view wnid, std::string_view gloss) { entry(wnid).gloss = gloss; });
    }
    const auto is_a = folder / "wordnet.is_a.txt";
    const auto bytes = load_bytes(is_a, files);
    TextRows rows(as_text(bytes));
    while (const auto row = rows.next()) {
        TextFields fields(row->text);
        const auto parent = fields.next();
        const auto child = fields.next();
        if (!is_wnid(parent) || !is_wnid(child) || !fields.at_end()) {
            throw Error(is_a.string() + ":" + std::to_string(row->number) +
                        ": expected 'parent child'");
        }
        entry(parent);
        entry(child).parents.emplace_back(parent);
    }
    return synsets;
}

}  // namespace

bool is_wnid(std::string_view text) {
    return text.size() == 9 && text[0] == 'n' &&
           std::all_of(text.begin() + 1, text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::uint32_t SubDag::index_of(std::string_view wnid) const {
    const auto found =
        std::lower_bound(nodes.begin(), nodes.end(), wnid,
                         [](const Node& node, std::string_view w) { return node.wnid < w; });
    if (found == nodes.end() || found->wnid != wnid) {
        throw Error(std::string(wnid) + " is not in the class hierarchy");
    }
    return static_cast<std::uint32_t>(found - nodes.begin());
}

Hierarchy Hierarchy::load(const std::filesystem::path& source) {
    std::error_code error;
    std::vector<File> files;
    Hierarchy hierarchy;
    if (std::filesystem::is_regular_file(source, error)) {
        hierarchy = from_synsets(read_data_noun(source, files), source.string());
    } else if (std::filesystem::is_regular_file(source / "data.noun", error)) {
        hierarchy = from_synsets(read_data_noun(source / "data.noun", files),
                                 (source / "data.noun").string());
    } else if (std::filesystem::is_regular_file(source / "words.txt", error) &&
               std::filesystem::is_regular_file(source / "wordnet.is_a.txt", error)) {
        hierarchy = from_synsets(read_imagenet_files(source, files), source.string());
    }
    if (!files.empty()) {
        hierarchy.files_ = std::move(files);
        return hierarchy;
    }
    throw Error("--wordnet " + source.string() +
                ": expected a folder holding data.noun, or words.txt and wordnet.is_a.txt");
}

Hierarchy Hierarchy::load_default() {
    return load(std::filesystem::path(kDefaultWordnetDir));
}

Hierarchy Hierarchy::from_synsets(std::vector<Synset> synsets, std::string origin) {
    Hierarchy hierarchy;
    hierarchy.origin_ = std::move(origin);
    hierarchy.synsets_ = std::move(synsets);
    hierarchy.link();
    return hierarchy;
}

void Hierarchy::link() {
    index_.reserve(synsets_.size());
    for (std::size_t i = 0; i < synsets_.size(); ++i) {
        if (!is_wnid(synsets_[i].wnid)) {
            throw Error(origin_ + ": '" + synsets_[i].wnid + "' is not a synset id");
        }
        if (!index_.emplace(wnid_number(synsets_[i].wnid), i).second) {
            throw Error(origin_ + ": synset " + synsets_[i].wnid + " appears twice");
        }
    }
    for (auto& synset : synsets_) synset.children.clear();
    for (const auto& synset : synsets_) {
        for (const auto& parent : synset.parents) {
            const auto found = index_.find(wnid_number(parent));
            if (found == index_.end()) {
                throw Error(origin_ + ": " + synset.wnid + " names an unknown parent " + parent);
            }
            synsets_[found->second].children.push_back(synset.wnid);
        }
    }
    for (auto& synset : synsets_) {
        std::sort(synset.children.begin(), synset.children.end());
        synset.children.erase(std::unique(synset.children.begin(), synset.children.end()),
                              synset.children.end());
    }
    // Breadth-first from the root gives every synset its fewest steps to it.
    depths_.assign(synsets_.size(), -1);
    const auto root = index_.find(wnid_number(kRootWnid));
    if (root == index_.end()) return;
    std::deque<std::size_t> queue{root->second};
    depths_[root->second] = 0;
    while (!queue.empty()) {
        const std::size_t at = queue.front();
        queue.pop_front();
        for (const auto& child : synsets_[at].children) {
            const std::size_t next = index_.at(wnid_number(child));
            if (depths_[next] >= 0) continue;
            depths_[next] = depths_[at] + 1;
            queue.push_back(next);
        }
    }
}

std::size_t Hierarchy::index_of(std::string_view wnid) const {
    if (is_wnid(wnid)) {
        const auto found = index_.find(wnid_number(wnid));
        if (found != index_.end()) return found->second;
    }
    throw Error(std::string(wnid) + " is not a WordNet noun synset (" + origin_ + ")");
}

bool Hierarchy::contains(std::string_view wnid) const {
    return is_wnid(wnid) && index_.count(wnid_number(wnid)) != 0;
}

const Synset& Hierarchy::synset(std::string_view wnid) const {
    return synsets_[index_of(wnid)];
}

int Hierarchy::depth(std::string_view wnid) const {
    return depths_[index_of(wnid)];
}

std::vector<std::vector<std::string>> Hierarchy::paths_to_root(std::string_view wnid) const {
    std::vector<std::vector<std::string>> paths;
    std::vector<std::string> path;
    const std::function<void(std::size_t)> climb = [&](std::size_t at) {
        path.push_back(synsets_[at].wnid);
        if (synsets_[at].parents.empty()) paths.push_back(path);
        for (const auto& parent : synsets_[at].parents) climb(index_of(parent));
        path.pop_back();
    };
    climb(index_of(wnid));
    std::sort(paths.begin(), paths.end());
    return paths;
}

std::vector<std::string> Hierarchy::ancestors(std::string_view wnid) const {
    std::set<std::string> seen;
    std::vector<std::size_t> stack{index_of(wnid)};
    while (!stack.empty()) {
        const std::size_t at = stack.back();
        stack.pop_back();
        for (const auto& parent : synsets_[at].parents) {
            if (seen.insert(parent).second) stack.push_back(index_of(parent));
        }
    }
    return {seen.begin(), seen.end()};
}

SubDag Hierarchy::sub_dag(std::span<const std::string> wnids) const {
    std::set<std::string> members;
    for (const auto& wnid : wnids) {
        members.insert(synset(wnid).wnid);
        for (auto& ancestor : ancestors(wnid)) members.insert(std::move(ancestor));
    }
    SubDag dag;
    for (const auto& wnid : members) {
        const auto& node = synset(wnid);
        dag.nodes.push_back({node.wnid, node.words, node.gloss, depth(wnid)});
    }
    for (std::uint32_t child = 0; child < dag.nodes.size(); ++child) {
        for (const auto& parent : synset(dag.nodes[child].wnid).parents) {
            dag.edges.emplace_back(dag.index_of(parent), child);
        }
    }
    std::sort(dag.edges.begin(), dag.edges.end());
    dag.edges.erase(std::unique(dag.edges.begin(), dag.edges.end()), dag.edges.end());
    return dag;
}

}  // namespace synshard::wordnet
