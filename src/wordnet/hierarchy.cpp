#include "synshard/wordnet/hierarchy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <span>

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

// One data.noun record: "offset lex ss_type w_cnt(hex) word lex_id ... p_cnt ptr... | gloss";
// nullopt if it is malformed.
std::optional<Synset> parse_data_noun_record(std::string_view line) {
    const auto bar = line.find(" | ");
    TextFields fields(line.substr(0, bar));
    const auto offset = fields.next();
    fields.next();  // lexicographer file
    fields.next();  // synset type
    const auto word_count_field = fields.next();
    unsigned word_count = 0;
    if (offset.size() != 8 ||
        std::from_chars(word_count_field.data(), word_count_field.data() + word_count_field.size(),
                        word_count, 16)
                .ec != std::errc{}) {
        return std::nullopt;
    }
    Synset synset;
    synset.wnid.reserve(offset.size() + 1);
    synset.wnid.push_back('n');
    synset.wnid.append(offset);
    for (unsigned i = 0; i < word_count; ++i) {
        const auto word = fields.next();
        if (word.empty() || fields.next().empty()) return std::nullopt;  // word, lex_id
        if (!synset.words.empty()) synset.words += ", ";
        const std::size_t start = synset.words.size();
        synset.words.append(word);
        std::replace(synset.words.begin() + static_cast<std::ptrdiff_t>(start), synset.words.end(),
                     '_', ' ');
    }
    const auto pointer_count_field = fields.next();
    if (pointer_count_field.empty()) return std::nullopt;
    unsigned pointer_count = 0;
    std::from_chars(pointer_count_field.data(),
                    pointer_count_field.data() + pointer_count_field.size(), pointer_count);
    for (unsigned i = 0; i < pointer_count; ++i) {
        const auto symbol = fields.next();
        const auto target = fields.next();
        const auto part_of_speech = fields.next();
        if (fields.next().empty()) return std::nullopt;  // source/target word numbers
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
        auto synset = parse_data_noun_record(line->text);
        if (!synset) {
            throw Error(path.string() + ":" + std::to_string(line->number) +
                        ": malformed data.noun record");
        }
        synsets.push_back(std::move(*synset));
    }
    return synsets;
}

// A data.noun the size of WordNet 3.0's (15 MB) is digested in blocks of this size.
constexpr std::size_t kDigestBlock = std::size_t{1} << 20;
// Most records are read in one block of this size (WordNet 3.0's average is 186 bytes, its
// longest 12,972).
constexpr std::size_t kRecordBlock = 1024;
// A line longer than this is no record.
constexpr std::size_t kMaxRecordBytes = std::size_t{1} << 20;

std::string offset_text(std::uint32_t offset) {
    std::string text = std::to_string(offset);
    return std::string(text.size() < 8 ? 8 - text.size() : 0, '0') + text;
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

// An open()ed data.noun.
struct Hierarchy::Records {
    std::filesystem::path path;
    UniqueFd fd;
    std::uint64_t size = 0;
    // Held while a synset is looked up and, if new, read and added.
    std::mutex mutex;

    // The synset whose record starts at offset; nullopt if none starts there (past the end,
    // inside another record, a record of another offset). Throws Error naming the file for
    // one that starts there but does not parse.
    std::optional<Synset> read(std::uint32_t offset) const {
        std::string line;
        std::size_t end = std::string::npos;
        while (end == std::string::npos && offset + line.size() < size &&
               line.size() <= kMaxRecordBytes) {
            const std::size_t had = line.size();
            line.resize(had + kRecordBlock);
            const std::span<char> rest = std::span(line).subspan(had);
            line.resize(had + read_at(fd.get(),
                                      {reinterpret_cast<std::uint8_t*>(rest.data()), rest.size()},
                                      offset + had, path));
            if (line.size() == had) break;  // the file shrank
            end = line.find('\n', had);
        }
        if (!line.starts_with(offset_text(offset) + " ")) return std::nullopt;
        line.resize(std::min(end, line.size()));
        auto synset = line.size() <= kMaxRecordBytes ? parse_data_noun_record(line) : std::nullopt;
        if (!synset) {
            throw Error(path.string() + ": malformed data.noun record at byte " +
                        std::to_string(offset));
        }
        return synset;
    }
};

Hierarchy::Hierarchy() = default;
Hierarchy::~Hierarchy() = default;
Hierarchy::Hierarchy(Hierarchy&&) noexcept = default;
Hierarchy& Hierarchy::operator=(Hierarchy&&) noexcept = default;

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

Hierarchy Hierarchy::open(const std::filesystem::path& source) {
    std::error_code error;
    const std::filesystem::path path =
        std::filesystem::is_regular_file(source, error) ? source : source / "data.noun";
    if (!std::filesystem::is_regular_file(path, error)) return load(source);
    auto records = std::make_unique<Records>();
    records->path = path;
    records->fd = open_checked(path, O_RDONLY);
    struct stat info {};
    if (::fstat(records->fd.get(), &info) != 0) throw_system_error("stat " + path.string(), errno);
    records->size = static_cast<std::uint64_t>(info.st_size);
    // A copy whose offsets are not its byte positions (line ends turned into CRLF, an
    // edited file) is told by its root: it is read whole, as load() would.
    if (!records->read(wnid_number(kRootWnid))) return load(source);
    ContentDigester digester;
    std::vector<std::uint8_t> block(kDigestBlock);
    for (std::uint64_t at = 0;;) {
        const std::size_t got = read_at(records->fd.get(), block, at, path);
        digester.update(std::span(block).first(got));
        at += got;
        if (got < block.size()) break;
    }
    Hierarchy hierarchy;
    hierarchy.origin_ = path.string();
    hierarchy.files_.push_back({path, digester.digest()});
    hierarchy.records_ = std::move(records);
    return hierarchy;
}

Hierarchy Hierarchy::from_synsets(std::vector<Synset> synsets, std::string origin) {
    Hierarchy hierarchy;
    hierarchy.origin_ = std::move(origin);
    hierarchy.link(std::move(synsets));
    return hierarchy;
}

void Hierarchy::link(std::vector<Synset> synsets) {
    synsets_.reserve(synsets.size());
    for (const auto& synset : synsets) {
        if (!is_wnid(synset.wnid)) {
            throw Error(origin_ + ": '" + synset.wnid + "' is not a synset id");
        }
        if (!synsets_.try_emplace(wnid_number(synset.wnid)).second) {
            throw Error(origin_ + ": synset " + synset.wnid + " appears twice");
        }
    }
    // Children first, into the slots, so that the synsets are then moved in whole.
    for (const auto& synset : synsets) {
        for (const auto& parent : synset.parents) {
            const auto found = synsets_.find(wnid_number(parent));
            if (found == synsets_.end()) {
                throw Error(origin_ + ": " + synset.wnid + " names an unknown parent " + parent);
            }
            found->second.children.push_back(synset.wnid);
        }
    }
    for (auto& synset : synsets) {
        Synset& slot = synsets_.at(wnid_number(synset.wnid));
        synset.children = std::move(slot.children);
        std::sort(synset.children.begin(), synset.children.end());
        synset.children.erase(std::unique(synset.children.begin(), synset.children.end()),
                              synset.children.end());
        slot = std::move(synset);
    }
}

const Synset* Hierarchy::find(std::string_view wnid) const {
    if (!is_wnid(wnid)) return nullptr;
    const std::uint32_t number = wnid_number(wnid);
    if (!records_) {
        const auto found = synsets_.find(number);
        return found == synsets_.end() ? nullptr : &found->second;
    }
    const std::lock_guard lock(records_->mutex);
    if (const auto found = synsets_.find(number); found != synsets_.end()) return &found->second;
    auto read = records_->read(number);
    if (!read) return nullptr;
    return &synsets_.emplace(number, std::move(*read)).first->second;
}

const Synset& Hierarchy::parent_of(const Synset& child, const std::string& parent) const {
    if (const Synset* found = find(parent)) return *found;
    throw Error(origin_ + ": corrupt WordNet: the hypernym " + parent + " of " + child.wnid +
                " starts no record at byte " + std::to_string(wnid_number(parent)));
}

std::size_t Hierarchy::size() const {
    if (!records_) return synsets_.size();
    const std::lock_guard lock(records_->mutex);
    return synsets_.size();
}

bool Hierarchy::contains(std::string_view wnid) const {
    return find(wnid) != nullptr;
}

const Synset& Hierarchy::synset(std::string_view wnid) const {
    if (const Synset* found = find(wnid)) return *found;
    throw Error(std::string(wnid) + " is not a WordNet noun synset (" + origin_ + ")");
}

int Hierarchy::depth(std::string_view wnid) const {
    // Breadth-first up the hypernyms: the first level that holds the root is its distance.
    std::vector<const Synset*> level{&synset(wnid)};
    std::set<std::string_view> seen{level.front()->wnid};
    for (int steps = 0; !level.empty(); ++steps) {
        std::vector<const Synset*> next;
        for (const Synset* at : level) {
            if (at->wnid == kRootWnid) return steps;
            for (const auto& parent : at->parents) {
                if (seen.insert(parent).second) next.push_back(&parent_of(*at, parent));
            }
        }
        level = std::move(next);
    }
    return -1;
}

std::vector<std::vector<std::string>> Hierarchy::paths_to_root(std::string_view wnid) const {
    std::vector<std::vector<std::string>> paths;
    std::vector<std::string> path;
    const std::function<void(const Synset&)> climb = [&](const Synset& at) {
        path.push_back(at.wnid);
        if (at.parents.empty()) paths.push_back(path);
        for (const auto& parent : at.parents) climb(parent_of(at, parent));
        path.pop_back();
    };
    climb(synset(wnid));
    std::sort(paths.begin(), paths.end());
    return paths;
}

std::vector<std::string> Hierarchy::ancestors(std::string_view wnid) const {
    std::set<std::string> seen;
    std::vector<const Synset*> stack{&synset(wnid)};
    while (!stack.empty()) {
        const Synset* at = stack.back();
        stack.pop_back();
        for (const auto& parent : at->parents) {
            if (seen.insert(parent).second) stack.push_back(&parent_of(*at, parent));
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
