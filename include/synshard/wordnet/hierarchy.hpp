#pragma once

#include <cstdint>
#include <filesystem>
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
    // Direct hyponyms (the inverse of parents), sorted by wnid.
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

// The WordNet 3.0 noun hierarchy (a DAG: some synsets have two parents). Immutable after
// loading, so safe to share between threads.
class Hierarchy {
  public:
    // Loads from a folder holding WordNet's data.noun, or ImageNet's words.txt (+ gloss.txt,
    // optional) + wordnet.is_a.txt (in any of the forms TextRows, util/text_lines.hpp,
    // takes as the clean files), or from a data.noun file itself. Throws Error naming the
    // path if no source is found, and the file and line where a file is malformed.
    static Hierarchy load(const std::filesystem::path& source);
    // load(kDefaultWordnetDir).
    static Hierarchy load_default();

    // Builds from synsets given directly (children and depths are derived). For tests and
    // for sources read elsewhere.
    static Hierarchy from_synsets(std::vector<Synset> synsets, std::string origin);

    // Where the hierarchy was loaded from (a path), as recorded in outputs.
    const std::string& origin() const { return origin_; }
    // The files load() read, each with the content_digest (util/hash.hpp) of the bytes it
    // parsed; empty for from_synsets.
    struct File {
        std::filesystem::path path;
        std::string content;
    };
    const std::vector<File>& files() const { return files_; }
    std::size_t size() const { return synsets_.size(); }

    bool contains(std::string_view wnid) const;
    // Throws Error("<wnid> is not a WordNet noun synset (<origin>)") for an unknown id.
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
    std::size_t index_of(std::string_view wnid) const;
    void link();

    std::string origin_;
    std::vector<File> files_;
    std::vector<Synset> synsets_;
    std::vector<int> depths_;
    // Keyed by the numeric part of the wnid (the synset's byte offset in data.noun).
    std::unordered_map<std::uint32_t, std::size_t> index_;
};

}  // namespace synshard::wordnet
