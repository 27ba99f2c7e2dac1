#include "synshard/reader/dataset.hpp"

#include <algorithm>
#include <map>

#include "synshard/image/pipeline.hpp"
#include "synshard/util/error.hpp"

namespace synshard::reader {

ShardSamples::Iterator::Iterator(const ShardReader* shard, std::uint64_t row)
    : shard_(shard), row_(row) {
    load();
}

ShardSamples::Iterator& ShardSamples::Iterator::operator++() {
    ++row_;
    load();
    return *this;
}

void ShardSamples::Iterator::load() {
    if (shard_ != nullptr && row_ < shard_->num_samples()) sample_ = shard_->read(row_);
}

cv::Mat decode_rgb(const h5::SampleRow& sample, std::string_view encoding,
                   std::pair<std::int32_t, std::int32_t> raw_geometry) {
    // One decoder per thread: it holds TurboJPEG handles and buffers reused across images.
    thread_local image::Pipeline pipeline{image::PipelineOptions{}};
    const bool raw = encoding == h5::kRawEncoding;
    try {
        // Any encoded output is JPEG or PNG told by content, so the encoding only matters
        // for raw.
        return pipeline.decode_stored(
            sample.image, raw ? image::Encoding::raw : image::Encoding::original,
            raw ? raw_geometry.first : sample.height, raw ? raw_geometry.second : sample.width);
    } catch (const Error& error) {
        throw Error(sample.key + ": " + error.what());
    }
}

wordnet::Hierarchy to_wordnet_hierarchy(const h5::Hierarchy& hierarchy, std::string origin) {
    std::vector<wordnet::Synset> synsets;
    synsets.reserve(hierarchy.nodes.size());
    for (const h5::HierarchyNode& node : hierarchy.nodes) {
        synsets.push_back(wordnet::Synset{node.wnid, node.words, node.gloss, {}, {}});
    }
    for (const auto& [parent, child] : hierarchy.edges) {
        const auto valid = [&](std::int32_t node) {
            return node >= 0 && static_cast<std::size_t>(node) < synsets.size();
        };
        if (!valid(parent) || !valid(child)) {
            throw Error(origin + ": hierarchy edge (" + std::to_string(parent) + ", " +
                        std::to_string(child) + ") names a missing node");
        }
        synsets[static_cast<std::size_t>(child)].parents.push_back(
            synsets[static_cast<std::size_t>(parent)].wnid);
    }
    return wordnet::Hierarchy::from_synsets(std::move(synsets), std::move(origin));
}

struct Dataset::State {
    std::filesystem::path directory;
    IndexReader index;
    std::string encoding;
    std::vector<std::string> splits;

    struct Split {
        std::vector<std::string> shard_paths;
        // first_rows[s] = global index of shard s's row 0; the last entry is the total.
        std::vector<std::uint64_t> first_rows;
        std::vector<std::unique_ptr<ShardReader>> shards;  // opened on first use
    };
    std::map<std::string, Split> split_data;

    std::unique_ptr<manifest::Manifest> manifest;
    std::unique_ptr<h5::ClassTable> classes;
    std::unique_ptr<wordnet::Hierarchy> hierarchy;

    explicit State(std::filesystem::path dir)
        : directory(std::move(dir)), index(directory / h5::kIndexFileName) {
        encoding = index.encoding();
        splits = index.splits();
        for (const std::string& name : splits) {
            Split split;
            split.shard_paths = index.shard_paths(name);
            const std::vector<std::uint64_t> counts = index.shard_num_samples(name);
            if (counts.size() != split.shard_paths.size()) {
                throw Error((directory / h5::kIndexFileName).string() + ": split " + name +
                            " has " + std::to_string(split.shard_paths.size()) +
                            " shard paths and " + std::to_string(counts.size()) + " counts");
            }
            split.first_rows.push_back(0);
            for (const std::uint64_t count : counts) {
                split.first_rows.push_back(split.first_rows.back() + count);
            }
            split.shards.resize(counts.size());
            split_data.emplace(name, std::move(split));
        }
    }

    // State is reached through a const Dataset's pointer, so lazily opened shards can be
    // stored from const methods.
    Split& split(const std::string& name) {
        const auto found = split_data.find(name);
        if (found == split_data.end()) {
            throw Error(directory.string() + ": no split '" + name + "'");
        }
        return found->second;
    }
};

namespace {

std::filesystem::path output_directory(const std::filesystem::path& path) {
    if (std::filesystem::is_directory(path)) return path;
    const std::string name = path.filename().string();
    if (name == h5::kIndexFileName || name == manifest::kManifestFileName) {
        const std::filesystem::path parent = path.parent_path();
        return parent.empty() ? "." : parent;
    }
    throw Error(path.string() + ": expected an output directory, its " +
                manifest::kManifestFileName + " or its " + h5::kIndexFileName);
}

}  // namespace

Dataset::Dataset(const std::filesystem::path& path)
    : state_(std::make_unique<State>(output_directory(path))) {}

Dataset::~Dataset() = default;
Dataset::Dataset(Dataset&&) noexcept = default;
Dataset& Dataset::operator=(Dataset&&) noexcept = default;

const std::filesystem::path& Dataset::directory() const {
    return state_->directory;
}

const IndexReader& Dataset::index() const {
    return state_->index;
}

const manifest::Manifest& Dataset::manifest() const {
    if (!state_->manifest) {
        state_->manifest = std::make_unique<manifest::Manifest>(
            manifest::read_manifest(state_->directory / manifest::kManifestFileName));
    }
    return *state_->manifest;
}

const std::string& Dataset::encoding() const {
    return state_->encoding;
}

const std::vector<std::string>& Dataset::splits() const {
    return state_->splits;
}

std::uint64_t Dataset::num_samples(const std::string& split) const {
    return state_->split(split).first_rows.back();
}

std::uint32_t Dataset::shard_count(const std::string& split) const {
    return static_cast<std::uint32_t>(state_->split(split).shard_paths.size());
}

SamplePosition Dataset::position(const std::string& split, std::uint64_t index) const {
    const State::Split& data = state_->split(split);
    if (index >= data.first_rows.back()) {
        throw Error(state_->directory.string() + ": " + split + " sample " + std::to_string(index) +
                    " of " + std::to_string(data.first_rows.back()));
    }
    // The last shard whose first row is <= index (empty shards are skipped over).
    const auto after = std::upper_bound(data.first_rows.begin(), data.first_rows.end(), index);
    const auto shard = static_cast<std::uint32_t>(after - data.first_rows.begin() - 1);
    return SamplePosition{shard, index - data.first_rows[shard]};
}

std::uint64_t Dataset::global_index(const std::string& split, SamplePosition position) const {
    const State::Split& data = state_->split(split);
    if (position.shard >= data.shard_paths.size() ||
        position.row >= data.first_rows[position.shard + 1] - data.first_rows[position.shard]) {
        throw Error(state_->directory.string() + ": " + split + " has no shard " +
                    std::to_string(position.shard) + " row " + std::to_string(position.row));
    }
    return data.first_rows[position.shard] + position.row;
}

const ShardReader& Dataset::shard(const std::string& split, std::uint32_t shard) const {
    State::Split& data = state_->split(split);
    if (shard >= data.shards.size()) {
        throw Error(state_->directory.string() + ": " + split + " has no shard " +
                    std::to_string(shard));
    }
    std::unique_ptr<ShardReader>& reader = data.shards[shard];
    if (!reader) {
        reader = std::make_unique<ShardReader>(state_->directory / data.shard_paths[shard]);
        const std::uint64_t expected = data.first_rows[shard + 1] - data.first_rows[shard];
        if (reader->num_samples() != expected || reader->attributes().split != split) {
            const std::string path = (state_->directory / data.shard_paths[shard]).string();
            reader.reset();
            throw Error(path + ": holds " + split + " samples other than index.h5 says");
        }
    }
    return *reader;
}

h5::SampleRow Dataset::sample(const std::string& split, std::uint64_t index) const {
    const SamplePosition at = position(split, index);
    return shard(split, at.shard).read(at.row);
}

std::optional<Located> Dataset::locate(std::string_view key) const {
    return state_->index.locate(key);
}

std::optional<h5::SampleRow> Dataset::sample_by_key(std::string_view key) const {
    const std::optional<Located> located = locate(key);
    if (!located) return std::nullopt;
    return shard(located->split, located->shard).read(located->row);
}

std::pair<std::int32_t, std::int32_t> Dataset::raw_geometry() const {
    if (state_->encoding != h5::kRawEncoding) return {0, 0};
    for (const std::string& split : state_->splits) {
        if (shard_count(split) != 0 && num_samples(split) != 0) {
            return shard(split, position(split, 0).shard).raw_geometry();
        }
    }
    return {0, 0};
}

cv::Mat Dataset::rgb(const h5::SampleRow& sample) const {
    return decode_rgb(sample, state_->encoding, raw_geometry());
}

const h5::ClassTable& Dataset::classes() const {
    if (!state_->classes) {
        state_->classes = std::make_unique<h5::ClassTable>(state_->index.read_class_table());
    }
    return *state_->classes;
}

const wordnet::Hierarchy& Dataset::hierarchy() const {
    if (!state_->hierarchy) {
        state_->hierarchy = std::make_unique<wordnet::Hierarchy>(to_wordnet_hierarchy(
            state_->index.read_hierarchy(), (state_->directory / h5::kIndexFileName).string()));
    }
    return *state_->hierarchy;
}

const h5::ClassEntry& Dataset::class_entry(std::int32_t label) const {
    const auto& table = classes().classes;
    if (label < 0 || static_cast<std::size_t>(label) >= table.size()) {
        throw Error(state_->directory.string() + ": label " + std::to_string(label) +
                    " outside the " + std::to_string(table.size()) + " classes");
    }
    return table[static_cast<std::size_t>(label)];
}

std::optional<std::int32_t> Dataset::label_of(std::string_view wnid) const {
    const auto& table = classes().classes;
    const auto found = std::find_if(table.begin(), table.end(), [&](const h5::ClassEntry& entry) {
        return entry.synset == wnid;
    });
    if (found == table.end()) return std::nullopt;
    return static_cast<std::int32_t>(found - table.begin());
}

bool Dataset::is_a(std::int32_t label, std::string_view wnid) const {
    const std::string& synset = class_entry(label).synset;
    if (synset == wnid) return true;
    const wordnet::Hierarchy& tree = hierarchy();
    if (!tree.contains(synset) || !tree.contains(wnid)) return false;
    const std::vector<std::string> ancestors = tree.ancestors(synset);
    return std::binary_search(ancestors.begin(), ancestors.end(), wnid);
}

}  // namespace synshard::reader
