#include <algorithm>
#include <set>

#include "checks.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::verify {
namespace {

// "splits/<split>/<name>": how a problem names an object of index.h5's group of split.
std::string split_object(const std::string& split, const std::string& name) {
    return std::string(h5::group::kSplits) + "/" + split + "/" + name;
}

// The hierarchy against the class table: each class's node holds its synset, words and
// gloss, and the nodes above it (by the edges) are its ancestors.
void check_hierarchy(const h5::Hierarchy& hierarchy, const h5::ClassTable& table,
                     ProblemList& problems) {
    const auto& nodes = hierarchy.nodes;
    const auto in_range = [&](std::int32_t node) {
        return node >= 0 && static_cast<std::size_t>(node) < nodes.size();
    };
    std::vector<std::vector<std::int32_t>> parents(nodes.size());
    for (const auto& [parent, child] : hierarchy.edges) {
        if (!in_range(parent) || !in_range(child)) {
            problems.add("hierarchy/edges holds (" + std::to_string(parent) + ", " +
                         std::to_string(child) + "), outside its " + std::to_string(nodes.size()) +
                         " nodes");
            return;
        }
        parents[static_cast<std::size_t>(child)].push_back(parent);
    }
    if (hierarchy.class_nodes.size() != table.classes.size()) {
        problems.add("classes/nodes holds " + std::to_string(hierarchy.class_nodes.size()) +
                     " nodes for " + std::to_string(table.classes.size()) + " classes");
        return;
    }
    for (std::size_t c = 0; c < table.classes.size(); ++c) {
        const auto& entry = table.classes[c];
        const std::int32_t node = hierarchy.class_nodes[c];
        const std::string name = "class " + std::to_string(c) + " (" + entry.synset + ")";
        if (!in_range(node)) {
            problems.add(name + ": classes/nodes names node " + std::to_string(node));
            continue;
        }
        const auto& held = nodes[static_cast<std::size_t>(node)];
        if (held.wnid != entry.synset || held.words != entry.words || held.gloss != entry.gloss) {
            problems.add(name + ": its hierarchy node " + std::to_string(node) + " holds " +
                         held.wnid + " \"" + held.words + "\" with another gloss or words");
        }
        std::set<std::string> above;
        std::vector<std::int32_t> pending = parents[static_cast<std::size_t>(node)];
        while (!pending.empty()) {
            const std::int32_t next = pending.back();
            pending.pop_back();
            if (!above.insert(nodes[static_cast<std::size_t>(next)].wnid).second) continue;
            const auto& more = parents[static_cast<std::size_t>(next)];
            pending.insert(pending.end(), more.begin(), more.end());
        }
        if (std::vector<std::string>(above.begin(), above.end()) != entry.ancestors) {
            problems.add(name +
                         ": its ancestors in classes/ancestors are not those above it in "
                         "hierarchy/edges");
        }
    }
}

}  // namespace

void check_index(const std::filesystem::path& output, const reader::IndexReader& index,
                 const IndexView& view, const manifest::Manifest& manifest, Report& report) {
    ProblemList problems(h5::kIndexFileName, report);
    if (manifest.index) {
        const auto path = output / h5::kIndexFileName;
        const std::uint64_t bytes = std::filesystem::file_size(path);
        if (bytes != manifest.index->bytes)
            problems.add(mismatch("size in bytes", manifest.index->bytes, bytes));
        const std::string sha256 = to_hex(h5::sha256_of_file(path));
        if (sha256 != manifest.index->sha256) {
            problems.add("sha256 " + sha256 + " differs from the manifest's " +
                         manifest.index->sha256 + " (edited or replaced)");
        }
    } else {
        report.problems.push_back({manifest::kManifestFileName,
                                   "records no index.h5 size and sha256 (written by an older "
                                   "synshard): index.h5 cannot be checked whole"});
    }
    if (index.format_version() != manifest.format_version) {
        problems.add(mismatch(std::string("@") + h5::attribute::kFormatVersion,
                              manifest.format_version, index.format_version()));
    }
    if (index.label_scheme() != manifest.label_scheme) {
        problems.add(std::string("@") + h5::attribute::kLabelScheme + " is " +
                     index.label_scheme() + ", the manifest's " + manifest.label_scheme);
    }
    std::vector<std::string> expected_splits;
    for (const auto& [split, entry] : manifest.splits) expected_splits.push_back(split);
    if (index.splits() != expected_splits) problems.add("splits differ from the manifest's");
    for (const auto& [split, entry] : manifest.splits) {
        if (!std::count(expected_splits.begin(), expected_splits.end(), split)) continue;
        if (index.num_samples(split) != entry.num_samples) {
            problems.add(
                mismatch(split_object(split, std::string("@") + h5::attribute::kNumSamples),
                         entry.num_samples, index.num_samples(split)));
        }
        std::vector<std::string> paths;
        std::vector<std::uint64_t> counts;
        for (const auto& shard : entry.shards) {
            paths.push_back(shard.path);
            counts.push_back(shard.num_samples);
        }
        if (index.shard_paths(split) != paths) {
            problems.add(split_object(split, h5::split_table::kShardPaths) +
                         " differ from the manifest's shards");
        }
        if (index.shard_num_samples(split) != counts) {
            problems.add(split_object(split, h5::split_table::kShardNumSamples) +
                         " differ from the manifest's shard sizes");
        }
        const auto& keys = view.keys.at(split);
        const std::string keys_name = split_object(split, h5::column::kKeys);
        if (keys.size() != entry.num_samples) {
            problems.add(keys_name + " holds " + std::to_string(keys.size()) + " keys, the split " +
                         std::to_string(entry.num_samples) + " samples");
        }
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (i > 0 && !(keys[i - 1].key < keys[i].key)) {
                problems.add(keys_name + " not strictly increasing at \"" + keys[i].key + "\"");
            }
            if (keys[i].shard >= entry.shards.size()) {
                problems.add(split_object(split, h5::split_table::kKeyShards) + ": \"" +
                             keys[i].key + "\" in shard " + std::to_string(keys[i].shard) + " of " +
                             std::to_string(entry.shards.size()));
            }
        }
    }
    const auto& classes = view.classes.classes;
    if (classes.size() != manifest.classes.size()) {
        problems.add("class table holds " + std::to_string(classes.size()) +
                     " classes, the manifest " + std::to_string(manifest.classes.size()));
    }
    for (std::size_t c = 0; c < std::min(classes.size(), manifest.classes.size()); ++c) {
        const auto& expected = manifest.classes[c];
        if (classes[c].synset != expected.synset || classes[c].words != expected.words) {
            problems.add("class " + std::to_string(c) + " is " + classes[c].synset + " \"" +
                         classes[c].words + "\", the manifest's " + expected.synset + " \"" +
                         expected.words + "\"");
        }
    }
    check_hierarchy(index.read_hierarchy(), view.classes, problems);
}

}  // namespace synshard::verify
