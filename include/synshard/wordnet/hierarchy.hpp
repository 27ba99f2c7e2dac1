#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace synshard::wordnet {

// WordNet's noun root, "entity".
inline constexpr std::string_view kRootWnid = "n00001740";

// Where the default hierarchy comes from (Debian's wordnet-base).
inline constexpr std::string_view kDefaultWordnetDir = "/usr/share/wordnet";

// True for "n" followed by exactly eight digits.
bool is_wnid(std::string_view text);

// One noun synset.
struct Synset {
    std::string wnid;
    // Synonyms joined by ", ", underscores turned into spaces ("tabby, tabby cat"), the
    // spelling of ImageNet's words.txt.
    std::string words;
    std::string gloss;
    // Direct hypernyms (WordNet's @ and @i pointers), in the source's order.
    std::vector<std::string> parents;
    // Direct hyponyms (the inverse of parents), sorted by wnid. Empty in a hierarchy
    // Hierarchy::open()ed by offset: only the whole file knows a synset's hyponyms.
    std::vector<std::string> children;
};

// A closed part of the hierarchy: some synsets and all their ancestors.
struct SubDag {
    struct Node {
        std::string wnid;
        std::string words;
        std::string gloss;
        int depth = 0;
    };
    // Sorted by wnid.
    std::vector<Node> nodes;
    // (parent, child) as indexes into nodes, sorted; only edges between nodes of the sub-DAG.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;

    // Index of wnid in nodes; throws Error if it is not there.
    std::uint32_t index_of(std::string_view wnid) const;
};

// The WordNet 3.0 noun hierarchy (a DAG: some synsets have two parents). Safe to share
// between threads: one loaded whole never changes, one opened by offset adds the synsets
// it reads under a lock.
class Hierarchy {
  public:
    // Loads from a folder holding WordNet's data.noun, or ImageNet's words.txt (+ gloss.txt,
    // optional) + wordnet.is_a.txt (in any of the forms TextRows, util/text_lines.hpp,
    // takes as the clean files), or from a data.noun file itself. Throws Error naming the
    // path if no source is found, and the file and line where a file is malformed.
    static Hierarchy load(const std::filesystem::path& source);
    // load(kDefaultWordnetDir).
    static Hierarchy load_default();
    // Like load(), but a data.noun is not parsed whole: a synset's offset in data.noun is
    // its record's byte position, so each record is read there when the synset is first
    // asked for (a conversion reads its classes, their ancestors and the names it checks,
    // not the ~82,000 synsets). A name whose offset lies past the end or holds no record
    // starting with that offset is no synset (contains() is false, synset() throws as for
    // any unknown id); a hypernym pointer to such an offset, or a record there that does
    // not parse, is an Error naming the file (a corrupt data.noun). files() is as load()
    // gives it: the digest covers every byte, read a block at a time. ImageNet's files,
    // whose lines no id addresses, and a data.noun whose root (entity) is not at its
    // offset (CRLF line ends, an edited copy) are loaded whole.
    static Hierarchy open(const std::filesystem::path& source);

    // Builds from synsets given directly (children and depths are derived). For tests and
    // for sources read elsewhere.
    static Hierarchy from_synsets(std::vector<Synset> synsets, std::string origin);

    Hierarchy();
    ~Hierarchy();
    Hierarchy(Hierarchy&&) noexcept;
    Hierarchy& operator=(Hierarchy&&) noexcept;

    // Where the hierarchy was loaded from (a path), as recorded in outputs.
    const std::string& origin() const { return origin_; }
    // The files read, each with the content_digest (util/hash.hpp) of all its bytes;
    // empty for from_synsets.
    struct File {
        std::filesystem::path path;
        std::string content;
    };
    const std::vector<File>& files() const { return files_; }
    // The synsets held: every one when loaded whole, the ones read so far when opened.
    std::size_t size() const;

    bool contains(std::string_view wnid) const;
    // Throws Error("<wnid> is not a WordNet noun synset (<origin>)") for an unknown id.
    // The reference stays valid as long as the hierarchy.
    const Synset& synset(std::string_view wnid) const;
    // Fewest hypernym steps from wnid to the root (the root has depth 0); -1 if the root
    // cannot be reached. Throws like synset() for an unknown id.
    int depth(std::string_view wnid) const;
    // Every hypernym path from wnid up to a synset without parents (the root for WordNet),
    // each starting with wnid itself; sorted. Throws like synset().
    std::vector<std::vector<std::string>> paths_to_root(std::string_view wnid) const;
    // Every ancestor of wnid (not wnid itself), sorted by wnid. Throws like synset().
    std::vector<std::string> ancestors(std::string_view wnid) const;
    // The given synsets, all their ancestors, and the parent-child edges between them.
    // Throws like synset() for an unknown id.
    SubDag sub_dag(std::span<const std::string> wnids) const;

  private:
    struct Records;

    // The synset wnid names; null if it names none.
    const Synset* find(std::string_view wnid) const;
    // A parent of child, which child's record names; throws Error naming the file if it
    // names no synset.
    const Synset& parent_of(const Synset& child, const std::string& parent) const;
    void link(std::vector<Synset> synsets);

    std::string origin_;
    std::vector<File> files_;
    // The data.noun an open()ed hierarchy reads from; null when held whole.
    std::unique_ptr<Records> records_;
    // Keyed by the numeric part of the wnid (the synset's byte offset in data.noun). Nodes
    // never move, so a Synset's address holds while open() adds synsets (under records_'s
    // lock: the only change after loading).
    mutable std::unordered_map<std::uint32_t, Synset> synsets_;
};

}  // namespace synshard::wordnet
