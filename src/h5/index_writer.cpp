#include "synshard/h5/index_writer.hpp"

#include <algorithm>
#include <numeric>
#include <optional>
#include <system_error>

#include "synshard/h5/class_table_io.hpp"
#include "synshard/h5/h5.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::h5 {

KeyLocations::KeyLocations(std::initializer_list<KeyLocation> locations) {
    for (const auto& location : locations) push_back(location);
}

void KeyLocations::push_back(std::string_view key, std::uint32_t shard, std::uint32_t row) {
    starts_.push_back(bytes_.size());
    bytes_.insert(bytes_.end(), key.begin(), key.end());
    shards_.push_back(shard);
    rows_.push_back(row);
}

std::string_view KeyLocations::key(std::size_t i) const {
    const std::uint64_t end = i + 1 < starts_.size() ? starts_[i + 1] : bytes_.size();
    return {bytes_.data() + starts_[i], end - starts_[i]};
}

namespace {

// Key lookups read single rows: chunks of at most this many rows and bytes keep each
// read small and inside HDF5's default chunk cache (1 MiB).
constexpr hsize_t kKeyChunkRows = 16384;
constexpr hsize_t kKeyChunkBytes = hsize_t{512} * 1024;

// The fewest chunks within those bounds, made equal: the last chunk is (nearly) full.
DatasetSettings key_chunks(std::size_t rows, std::size_t row_bytes) {
    const hsize_t most =
        std::clamp<hsize_t>(kKeyChunkBytes / std::max<hsize_t>(row_bytes, 1), 1, kKeyChunkRows);
    const hsize_t chunks = std::max<hsize_t>(1, (rows + most - 1) / most);
    return DatasetSettings{.chunk = {std::max<hsize_t>(1, (rows + chunks - 1) / chunks)}};
}

void check_hierarchy(const IndexContents& contents, const std::string& where) {
    const auto nodes = static_cast<std::int32_t>(contents.hierarchy.nodes.size());
    const auto in_range = [&](std::int32_t node) { return node >= 0 && node < nodes; };
    for (const auto& [parent, child] : contents.hierarchy.edges) {
        if (!in_range(parent) || !in_range(child)) throw Error(where + ": edge out of range");
    }
    if (contents.hierarchy.class_nodes.size() != contents.classes.classes.size()) {
        throw Error(where + ": " + std::to_string(contents.hierarchy.class_nodes.size()) +
                    " class nodes for " + std::to_string(contents.classes.classes.size()) +
                    " classes");
    }
    for (std::int32_t node : contents.hierarchy.class_nodes) {
        if (!in_range(node)) throw Error(where + ": class node out of range");
    }
}

void write_hierarchy(File& file, const Hierarchy& hierarchy) {
    Group group = file.create_group(group::kHierarchy);
    std::vector<std::string> wnids;
    std::vector<std::string> words;
    std::vector<std::string> glosses;
    std::vector<std::int32_t> depths;
    for (const HierarchyNode& node : hierarchy.nodes) {
        wnids.push_back(node.wnid);
        words.push_back(node.words);
        glosses.push_back(node.gloss);
        depths.push_back(node.depth);
    }
    std::vector<std::int32_t> edges;
    for (const auto& [parent, child] : hierarchy.edges) edges.insert(edges.end(), {parent, child});
    group.write_fixed_ascii(hierarchy_table::kWnids, wnids, kWnidLength).close();
    group.write_strings(hierarchy_table::kWords, words).close();
    group.write_strings(hierarchy_table::kGlosses, glosses).close();
    group.write_vector<std::int32_t>(hierarchy_table::kDepths, depths).close();
    const hsize_t edge_dims[] = {hierarchy.edges.size(), 2};
    group.write_array<std::int32_t>(hierarchy_table::kEdges, edges, edge_dims).close();
    group.close();
}

// The virtual dataset `name` of group: the dataset `name` of every non-empty shard of
// split, stacked along the first dimension. row_shape is the shape of one row.
void write_virtual_dataset(Group& group, const Datatype& type, const SplitIndex& split,
                           const std::string& name, const std::vector<hsize_t>& row_shape) {
    const std::string where = group.child_context(name);
    const std::uint64_t total = std::accumulate(split.shard_num_samples.begin(),
                                                split.shard_num_samples.end(), std::uint64_t{0});
    std::vector<hsize_t> dims{total};
    dims.insert(dims.end(), row_shape.begin(), row_shape.end());
    Dataspace virtual_space = Dataspace::simple(dims);
    PropertyList creation(H5P_DATASET_CREATE, where);
    const std::vector<std::uint8_t> zero(type.size(), 0);
    check_status(H5Pset_fill_value(creation.id(), type.id(), zero.data()),
                 "setting the fill value of " + where);
    // Set before the mappings (setting it again would drop them); an empty split keeps a
    // virtual dataset with no mappings.
    check_status(H5Pset_layout(creation.id(), H5D_VIRTUAL), "making " + where + " virtual");
    const auto shard_count = static_cast<std::int64_t>(split.shard_num_samples.size());
    std::uint64_t first_row = 0;
    for (std::int64_t shard = 0; shard < shard_count; ++shard) {
        const std::uint64_t rows = split.shard_num_samples[static_cast<std::size_t>(shard)];
        if (rows == 0) continue;
        std::vector<hsize_t> start(dims.size(), 0);
        std::vector<hsize_t> count = dims;
        start[0] = first_row;
        count[0] = rows;
        virtual_space.select_block(start, count);
        const Dataspace source_space = Dataspace::simple(count);
        const std::string source_file = shard_relative_path(split.name, shard, shard_count);
        check_status(H5Pset_virtual(creation.id(), virtual_space.id(), source_file.c_str(),
                                    name.c_str(), source_space.id()),
                     "mapping " + source_file + " into " + where);
        first_row += rows;
    }
    check_status(H5Sselect_none(virtual_space.id()), "resetting the selection of " + where);
    group.create_dataset(name, type, virtual_space, creation).close();
}

void write_split(Group& splits_group, const SplitIndex& split, const IndexContents& contents) {
    Group group = splits_group.create_group(split.name);
    const std::string where = group.context();
    const auto shard_count = split.shard_num_samples.size();
    const std::uint64_t total = std::accumulate(split.shard_num_samples.begin(),
                                                split.shard_num_samples.end(), std::uint64_t{0});
    if (split.keys.size() != total) {
        throw Error(where + ": " + std::to_string(split.keys.size()) + " keys for " +
                    std::to_string(total) + " samples");
    }
    std::vector<std::size_t> order(split.keys.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return split.keys.key(a) < split.keys.key(b); });
    std::vector<std::uint32_t> shards;
    std::vector<std::uint32_t> rows;
    std::size_t longest_key = 0;
    shards.reserve(order.size());
    rows.reserve(order.size());
    for (std::size_t i : order) {
        const std::string_view key = split.keys.key(i);
        const std::uint32_t shard = split.keys.shard(i);
        const std::uint32_t row = split.keys.row(i);
        if (shard >= shard_count || row >= split.shard_num_samples[shard]) {
            throw Error(where + ": key \"" + std::string(key) + "\" at shard " +
                        std::to_string(shard) + " row " + std::to_string(row) + " is out of range");
        }
        if (!shards.empty() && split.keys.key(order[shards.size() - 1]) == key) {
            throw Error(where + ": key \"" + std::string(key) + "\" appears twice");
        }
        longest_key = std::max(longest_key, key.size());
        shards.push_back(shard);
        rows.push_back(row);
    }
    std::vector<std::string> shard_paths;
    for (std::size_t shard = 0; shard < shard_count; ++shard) {
        shard_paths.push_back(shard_relative_path(split.name, static_cast<std::int64_t>(shard),
                                                  static_cast<std::int64_t>(shard_count)));
    }
    group.set_attribute(attribute::kNumSamples, static_cast<std::int64_t>(total));
    group.set_attribute(attribute::kShardCount, static_cast<std::int64_t>(shard_count));
    group.write_strings(split_table::kShardPaths, shard_paths).close();
    group.write_vector<std::uint64_t>(split_table::kShardNumSamples, split.shard_num_samples)
        .close();
    group
        .write_fixed_utf8(
            column::kKeys, order.size(), [&](std::size_t i) { return split.keys.key(order[i]); },
            key_chunks(order.size(), longest_key))
        .close();
    order = {};
    const DatasetSettings location_chunks = key_chunks(shards.size(), sizeof(std::uint32_t));
    group.write_vector<std::uint32_t>(split_table::kKeyShards, shards, location_chunks).close();
    group.write_vector<std::uint32_t>(split_table::kKeyRows, rows, location_chunks).close();
    write_virtual_dataset(group, Datatype::int32(), split, column::kLabels, {});
    if (contents.encoding == kRawEncoding) {
        write_virtual_dataset(group, Datatype::uint8(), split, column::kImages,
                              {static_cast<hsize_t>(contents.raw_height),
                               static_cast<hsize_t>(contents.raw_width), 3});
    }
    group.close();
}

}  // namespace

void write_index(const std::filesystem::path& output_dir, const IndexContents& contents) {
    const std::filesystem::path final_path = output_dir / kIndexFileName;
    check_hierarchy(contents, final_path.string());
    File file = File::create(final_path);
    file.set_attribute(attribute::kFormatVersion, kFormatVersion);
    file.set_attribute(attribute::kEncoding, contents.encoding);
    file.set_attribute(attribute::kLabelScheme, contents.label_scheme);
    if (contents.encoding == kRawEncoding) {
        file.set_attribute(attribute::kRawHeight, std::int64_t{contents.raw_height});
        file.set_attribute(attribute::kRawWidth, std::int64_t{contents.raw_width});
    }
    Group classes = file.create_group(group::kClasses);
    write_class_table(classes, contents.classes, ClassTableContent::for_index);
    classes.write_vector<std::int32_t>(class_table::kNodes, contents.hierarchy.class_nodes).close();
    classes.close();
    write_hierarchy(file, contents.hierarchy);
    Group splits = file.create_group(group::kSplits);
    for (const SplitIndex& split : contents.splits) write_split(splits, split, contents);
    splits.close();
    file.publish();
}

}  // namespace synshard::h5
