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

    std::vector<std::uint64_t> image_offsets;
    std::vector<std::int32_t> labels;
    std::vector<std::string> synsets;
    std::vector<std::string> keys;
    std::vector<std::uint8_t> source_sha256;
    std::vector<std::int32_t> orig_sizes;
    std::vector<std::int32_t> sizes;
    std::vector<float> bboxes;
    std::vector<std::uint64_t> bbox_offsets;
    std::vector<std::int32_t> bbox_labels;

    [[noreturn]] void fail(const std::string& what) const { throw Error(context + ": " + what); }

    static bool valid_offsets(const std::vector<std::uint64_t>& offsets, std::uint64_t n,
                              std::uint64_t total) {
        return offsets.size() == n + 1 && offsets.front() == 0 && offsets.back() == total &&
               std::is_sorted(offsets.begin(), offsets.end());
    }

    void load() {
        const h5::File& in = *file;
        attributes.format_version = in.int_attribute("format_version");
        attributes.split = in.string_attribute("split");
        attributes.shard_index = in.int_attribute("shard_index");
        attributes.shard_count = in.int_attribute("shard_count");
        attributes.encoding = in.string_attribute("encoding");
        attributes.label_scheme = in.string_attribute("label_scheme");
        const std::int64_t n_attribute = in.int_attribute("num_samples");
        if (n_attribute < 0) fail("negative num_samples");
        const auto n = static_cast<std::uint64_t>(n_attribute);
        attributes.num_samples = n;

        labels = in.open_dataset("labels").read<std::int32_t>();
        synsets = in.open_dataset("synsets").read_strings();
        keys = in.open_dataset("keys").read_strings();
        source_sha256 = in.open_dataset("source_sha256").read<std::uint8_t>();
        orig_sizes = in.open_dataset("orig_sizes").read<std::int32_t>();
        sizes = in.open_dataset("sizes").read<std::int32_t>();
        bboxes = in.open_dataset("bboxes").read<float>();
        bbox_offsets = in.open_dataset("bbox_offsets").read<std::uint64_t>();
        bbox_labels = in.open_dataset("bbox_labels").read<std::int32_t>();
        if (labels.size() != n || synsets.size() != n || keys.size() != n ||
            source_sha256.size() != n * 32 || orig_sizes.size() != n * 2 || sizes.size() != n * 2) {
            fail("per-sample datasets disagree with num_samples " + std::to_string(n));
        }
        if (bboxes.size() != bbox_labels.size() * 4 ||
            !valid_offsets(bbox_offsets, n, bbox_labels.size())) {
            fail("bbox_offsets, bboxes and bbox_labels disagree");
        }
        if (attributes.encoding == h5::kRawEncoding) {
            images.emplace(in.open_dataset("images"));
            const std::vector<hsize_t> dims = images->dims();
            if (dims.size() != 4 || dims[0] != n || dims[3] != 3)
                fail("images is not N x H x W x 3");
            raw_height = static_cast<std::int32_t>(dims[1]);
            raw_width = static_cast<std::int32_t>(dims[2]);
        } else {
            images.emplace(in.open_dataset("image_bytes"));
            image_offsets = in.open_dataset("image_offsets").read<std::uint64_t>();
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

Sample ShardReader::read(std::uint64_t row) const {
    Sample sample = read_metadata(row);
    sample.image = read_image(row);
    return sample;
}

Sample ShardReader::read_metadata(std::uint64_t row) const {
    const State& s = *state_;
    if (row >= num_samples()) {
        s.fail("row " + std::to_string(row) + " of " + std::to_string(num_samples()));
    }
    Sample sample;
    sample.key = s.keys[row];
    sample.synset = s.synsets[row];
    sample.label = s.labels[row];
    sample.orig_height = s.orig_sizes[2 * row];
    sample.orig_width = s.orig_sizes[2 * row + 1];
    sample.height = s.sizes[2 * row];
    sample.width = s.sizes[2 * row + 1];
    std::copy_n(s.source_sha256.begin() + static_cast<std::ptrdiff_t>(32 * row), 32,
                sample.source_sha256.begin());
    for (std::uint64_t box = s.bbox_offsets[row]; box < s.bbox_offsets[row + 1]; ++box) {
        sample.boxes.push_back(image::Box{s.bboxes[4 * box], s.bboxes[4 * box + 1],
                                          s.bboxes[4 * box + 2], s.bboxes[4 * box + 3]});
        sample.box_labels.push_back(s.bbox_labels[box]);
    }
    return sample;
}

h5::ClassTable ShardReader::read_class_table() const {
    return h5::read_class_table(state_->file->open_group("classes"));
}

}  // namespace synshard::reader
