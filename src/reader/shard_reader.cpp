#include "synshard/reader/shard_reader.hpp"

#include <algorithm>
#include <optional>

#include "synshard/h5/class_table_io.hpp"
#include "synshard/h5/h5.hpp"
#include "synshard/h5/shard_writer.hpp"
#include "synshard/util/error.hpp"

namespace synshard::reader {

struct ShardReader::State {
    std::string context;
    ShardAttributes attributes;
    std::optional<h5::File> file;
    std::optional<h5::Dataset> images;
    std::int32_t raw_height = 0;
    std::int32_t raw_width = 0;

    std::vector<std::uint64_t> image_offsets;  // encoded shards
    h5::SampleColumns columns;

    [[noreturn]] void fail(const std::string& what) const { throw Error(context + ": " + what); }

    static bool valid_offsets(const std::vector<std::uint64_t>& offsets, std::uint64_t n,
                              std::uint64_t total) {
        return offsets.size() == n + 1 && offsets.front() == 0 && offsets.back() == total &&
               std::is_sorted(offsets.begin(), offsets.end());
    }

    void load() {
        const h5::File& in = *file;
        attributes.format_version = in.int_attribute(h5::attribute::kFormatVersion);
        attributes.split = in.string_attribute(h5::attribute::kSplit);
        attributes.shard_index = in.int_attribute(h5::attribute::kShardIndex);
        attributes.shard_count = in.int_attribute(h5::attribute::kShardCount);
        attributes.encoding = in.string_attribute(h5::attribute::kEncoding);
        attributes.label_scheme = in.string_attribute(h5::attribute::kLabelScheme);
        const std::int64_t n_attribute = in.int_attribute(h5::attribute::kNumSamples);
        if (n_attribute < 0) fail("negative num_samples");
        const auto n = static_cast<std::uint64_t>(n_attribute);
        attributes.num_samples = n;

        columns.labels = in.open_dataset(h5::column::kLabels).read<std::int32_t>();
        columns.synsets = in.open_dataset(h5::column::kSynsets).read_strings();
        columns.keys = in.open_dataset(h5::column::kKeys).read_strings();
        columns.source_sha256 = in.open_dataset(h5::column::kSourceSha256).read<std::uint8_t>();
        columns.source_sizes = in.open_dataset(h5::column::kSourceSizes).read<std::int32_t>();
        columns.sizes = in.open_dataset(h5::column::kSizes).read<std::int32_t>();
        columns.bboxes = in.open_dataset(h5::column::kBboxes).read<float>();
        columns.bbox_offsets = in.open_dataset(h5::column::kBboxOffsets).read<std::uint64_t>();
        columns.bbox_labels = in.open_dataset(h5::column::kBboxLabels).read<std::int32_t>();
        if (columns.labels.size() != n || columns.synsets.size() != n || columns.keys.size() != n ||
            columns.source_sha256.size() != n * 32 || columns.source_sizes.size() != n * 2 ||
            columns.sizes.size() != n * 2) {
            fail("per-sample datasets disagree with num_samples " + std::to_string(n));
        }
        if (columns.bboxes.size() != columns.bbox_labels.size() * 4 ||
            !valid_offsets(columns.bbox_offsets, n, columns.bbox_labels.size())) {
            fail("bbox_offsets, bboxes and bbox_labels disagree");
        }
        if (attributes.encoding == h5::kRawEncoding) {
            images.emplace(in.open_dataset(h5::column::kImages));
            const std::vector<hsize_t> dims = images->dims();
            if (dims.size() != 4 || dims[0] != n || dims[3] != 3)
                fail("images is not N x H x W x 3");
            raw_height = static_cast<std::int32_t>(dims[1]);
            raw_width = static_cast<std::int32_t>(dims[2]);
        } else {
            images.emplace(in.open_dataset(h5::column::kImageBytes));
            image_offsets = in.open_dataset(h5::column::kImageOffsets).read<std::uint64_t>();
            const std::vector<hsize_t> dims = images->dims();
            if (dims.size() != 1 || !valid_offsets(image_offsets, n, dims[0])) {
                fail("image_offsets disagree with image_bytes");
            }
        }
    }
};

ShardReader::ShardReader(const std::filesystem::path& path) : state_(std::make_unique<State>()) {
    state_->context = path.string();
    state_->file.emplace(h5::File::open_read_only(path));
    state_->load();
}

ShardReader::~ShardReader() = default;
ShardReader::ShardReader(ShardReader&&) noexcept = default;
ShardReader& ShardReader::operator=(ShardReader&&) noexcept = default;

const ShardAttributes& ShardReader::attributes() const {
    return state_->attributes;
}

std::uint64_t ShardReader::num_samples() const {
    return state_->attributes.num_samples;
}

bool ShardReader::is_raw() const {
    return state_->attributes.encoding == h5::kRawEncoding;
}

std::pair<std::int32_t, std::int32_t> ShardReader::raw_geometry() const {
    return {state_->raw_height, state_->raw_width};
}

std::vector<std::uint8_t> ShardReader::read_image(std::uint64_t row) const {
    const State& s = *state_;
    if (row >= num_samples()) {
        s.fail("row " + std::to_string(row) + " of " + std::to_string(num_samples()));
    }
    if (is_raw()) {
        const hsize_t start[] = {row, 0, 0, 0};
        const hsize_t count[] = {1, static_cast<hsize_t>(s.raw_height),
                                 static_cast<hsize_t>(s.raw_width), 3};
        return s.images->read<std::uint8_t>(start, count);
    }
    const hsize_t start[] = {s.image_offsets[row]};
    const hsize_t count[] = {s.image_offsets[row + 1] - s.image_offsets[row]};
    if (count[0] == 0) return {};
    return s.images->read<std::uint8_t>(start, count);
}

std::uint64_t ShardReader::scan_image_data() const {
    const State& s = *state_;
    const std::vector<hsize_t> dims = s.images->dims();
    if (is_raw()) {
        std::uint64_t bytes = 0;
        for (std::uint64_t row = 0; row < num_samples(); ++row) bytes += read_image(row).size();
        return bytes;
    }
    // Whole image chunks per block: each chunk is read (and checksummed) exactly once.
    const std::vector<hsize_t> chunk = s.images->chunk_dims();
    const hsize_t block = 64 * (chunk.size() == 1 ? chunk[0] : h5::ShardWriter::kImageChunkBytes);
    const hsize_t total = dims.at(0);
    for (hsize_t start = 0; start < total; start += block) {
        const hsize_t offsets[] = {start};
        const hsize_t count[] = {std::min(block, total - start)};
        s.images->read<std::uint8_t>(offsets, count);
    }
    return total;
}

h5::SampleRow ShardReader::read(std::uint64_t row) const {
    h5::SampleRow sample = read_metadata(row);
    sample.image = read_image(row);
    return sample;
}

h5::SampleRow ShardReader::read_metadata(std::uint64_t row) const {
    const State& s = *state_;
    if (row >= num_samples()) {
        s.fail("row " + std::to_string(row) + " of " + std::to_string(num_samples()));
    }
    return s.columns.row(row);
}

h5::ClassTable ShardReader::read_class_table() const {
    return h5::read_class_table(state_->file->open_group(h5::group::kClasses));
}

}  // namespace synshard::reader
