#include "synshard/reader/index_reader.hpp"

#include <optional>

#include "synshard/h5/class_table_io.hpp"
#include "synshard/h5/h5.hpp"
#include "synshard/util/error.hpp"

namespace synshard::reader {

struct IndexReader::State {
    std::optional<h5::File> file;

    h5::Group split_group(const std::string& split) const {
        return file->open_group(h5::group::kSplits).open_group(split);
    }
};

IndexReader::IndexReader(const std::filesystem::path& index_path)
    : state_(std::make_unique<State>()) {
    state_->file.emplace(h5::File::open_read_only(index_path));
}

IndexReader::~IndexReader() = default;
IndexReader::IndexReader(IndexReader&&) noexcept = default;
IndexReader& IndexReader::operator=(IndexReader&&) noexcept = default;

std::int64_t IndexReader::format_version() const {
    return state_->file->int_attribute(h5::attribute::kFormatVersion);
}

std::string IndexReader::encoding() const {
    return state_->file->string_attribute(h5::attribute::kEncoding);
}

std::string IndexReader::label_scheme() const {
    return state_->file->string_attribute(h5::attribute::kLabelScheme);
}

std::vector<std::string> IndexReader::splits() const {
    return state_->file->open_group(h5::group::kSplits).child_names();
}

std::uint64_t IndexReader::num_samples(const std::string& split) const {
    return static_cast<std::uint64_t>(
        state_->split_group(split).int_attribute(h5::attribute::kNumSamples));
}

std::vector<std::string> IndexReader::shard_paths(const std::string& split) const {
    return state_->split_group(split).open_dataset(h5::split_table::kShardPaths).read_strings();
}

std::vector<std::uint64_t> IndexReader::shard_num_samples(const std::string& split) const {
    return state_->split_group(split)
        .open_dataset(h5::split_table::kShardNumSamples)
        .read<std::uint64_t>();
}

std::vector<h5::KeyLocation> IndexReader::read_keys(const std::string& split) const {
    const h5::Group group = state_->split_group(split);
    std::vector<std::string> keys = group.open_dataset(h5::column::kKeys).read_strings();
    const std::vector<std::uint32_t> shards =
        group.open_dataset(h5::split_table::kKeyShards).read<std::uint32_t>();
    const std::vector<std::uint32_t> rows =
        group.open_dataset(h5::split_table::kKeyRows).read<std::uint32_t>();
    if (shards.size() != keys.size() || rows.size() != keys.size()) {
        throw Error(group.context() + ": keys, key_shards and key_rows differ in length");
    }
    std::vector<h5::KeyLocation> locations(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
        locations[i] = {std::move(keys[i]), shards[i], rows[i]};
    }
    return locations;
}

std::optional<Located> IndexReader::locate(std::string_view key) const {
    for (const std::string& split : splits()) {
        const h5::Group group = state_->split_group(split);
        const h5::Dataset keys = group.open_dataset(h5::column::kKeys);
        // Lower bound over the sorted keys, one row read per step.
        hsize_t low = 0;
        hsize_t high = keys.dims().at(0);
        while (low < high) {
            const hsize_t middle = low + (high - low) / 2;
            if (keys.read_strings(middle, 1).front() < key) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        if (low == keys.dims()[0] || keys.read_strings(low, 1).front() != key) continue;
        const hsize_t start[] = {low};
        const hsize_t count[] = {1};
        Located located;
        located.split = split;
        located.shard =
            group.open_dataset(h5::split_table::kKeyShards).read<std::uint32_t>(start, count).at(0);
        located.row =
            group.open_dataset(h5::split_table::kKeyRows).read<std::uint32_t>(start, count).at(0);
        located.shard_path =
            group.open_dataset(h5::split_table::kShardPaths).read_strings(located.shard, 1).at(0);
        return located;
    }
    return std::nullopt;
}

h5::ClassTable IndexReader::read_class_table() const {
    return h5::read_class_table(state_->file->open_group(h5::group::kClasses));
}

h5::Hierarchy IndexReader::read_hierarchy() const {
    const h5::Group group = state_->file->open_group(h5::group::kHierarchy);
    const std::vector<std::string> wnids =
        group.open_dataset(h5::hierarchy_table::kWnids).read_strings();
    const std::vector<std::string> words =
        group.open_dataset(h5::hierarchy_table::kWords).read_strings();
    const std::vector<std::string> glosses =
        group.open_dataset(h5::hierarchy_table::kGlosses).read_strings();
    const std::vector<std::int32_t> depths =
        group.open_dataset(h5::hierarchy_table::kDepths).read<std::int32_t>();
    const std::vector<std::int32_t> edges =
        group.open_dataset(h5::hierarchy_table::kEdges).read<std::int32_t>();
    if (words.size() != wnids.size() || glosses.size() != wnids.size() ||
        depths.size() != wnids.size() || edges.size() % 2 != 0) {
        throw Error(group.context() + ": inconsistent hierarchy");
    }
    h5::Hierarchy hierarchy;
    for (std::size_t i = 0; i < wnids.size(); ++i) {
        hierarchy.nodes.push_back(h5::HierarchyNode{wnids[i], words[i], glosses[i], depths[i]});
    }
    for (std::size_t i = 0; i < edges.size(); i += 2) {
        hierarchy.edges.emplace_back(edges[i], edges[i + 1]);
    }
    hierarchy.class_nodes = state_->file->open_group(h5::group::kClasses)
                                .open_dataset(h5::class_table::kNodes)
                                .read<std::int32_t>();
    return hierarchy;
}

}  // namespace synshard::reader
