#include "synshard/h5/shard_writer.hpp"

#include <algorithm>
#include <optional>
#include <system_error>

#include "synshard/h5/class_table_io.hpp"
#include "synshard/h5/h5.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::h5 {

struct ShardWriter::State {
    ShardSpec spec;
    std::filesystem::path final_path;
    std::int64_t num_classes = 0;
    std::string context;  // the shard's path, for error messages

    // Destroyed in reverse order: the dataset before the file.
    std::optional<File> file;
    std::optional<Dataset> images;
    std::size_t chunk_bytes = ShardWriter::kImageChunkBytes;  // of image_bytes
    std::vector<std::uint8_t> pending;  // encoded bytes not yet written (< one chunk)
    std::uint64_t bytes_written = 0;

    std::vector<std::uint64_t> image_offsets{0};  // encoded shards
    SampleColumns columns;
    bool finished = false;

    std::uint64_t num_samples() const { return columns.num_samples(); }

    void write_chunk(std::span<const std::uint8_t> bytes) {
        const hsize_t start[] = {bytes_written};
        const hsize_t count[] = {bytes.size()};
        const hsize_t extent[] = {bytes_written + bytes.size()};
        images->set_extent(extent);
        images->write(bytes, start, count);
        bytes_written += bytes.size();
    }

    // Whole chunks only, each written once: with the chunk cache off, chunks land in the
    // file in write order, whatever HDF5's cache settings are.
    void append_encoded(std::span<const std::uint8_t> bytes) {
        while (!bytes.empty()) {
            const std::size_t take = std::min(bytes.size(), chunk_bytes - pending.size());
            const std::span<const std::uint8_t> head = bytes.first(take);
            pending.insert(pending.end(), head.begin(), head.end());
            bytes = bytes.subspan(take);
            if (pending.size() == chunk_bytes) {
                write_chunk(pending);
                pending.clear();
            }
        }
    }

    void append_raw(std::span<const std::uint8_t> pixels) {
        const auto row = static_cast<hsize_t>(num_samples());
        const auto height = static_cast<hsize_t>(spec.raw_height);
        const auto width = static_cast<hsize_t>(spec.raw_width);
        const hsize_t extent[] = {row + 1, height, width, 3};
        const hsize_t start[] = {row, 0, 0, 0};
        const hsize_t count[] = {1, height, width, 3};
        images->set_extent(extent);
        images->write(pixels, start, count);
    }

    void validate(const SampleView& sample) const {
        const auto fail = [&](const std::string& what) {
            throw Error(context + ": sample \"" + std::string(sample.key) + "\": " + what);
        };
        if (sample.key.find('\0') != std::string::npos) fail("key contains a NUL byte");
        if (sample.label < 0 || sample.label >= num_classes) {
            fail("label " + std::to_string(sample.label) + " outside the class table of " +
                 std::to_string(num_classes));
        }
        if (sample.synset.size() != kWnidLength) {
            fail("synset is not a wnid: " + std::string(sample.synset));
        }
        if (sample.boxes.size() != sample.box_labels.size()) {
            fail(std::to_string(sample.boxes.size()) + " boxes but " +
                 std::to_string(sample.box_labels.size()) + " box labels");
        }
        if (sample.source_height < 0 || sample.source_width < 0 || sample.height < 0 ||
            sample.width < 0) {
            fail("negative size");
        }
        if (spec.is_raw()) {
            const auto expected = static_cast<std::size_t>(spec.raw_height) *
                                  static_cast<std::size_t>(spec.raw_width) * 3;
            if (sample.image.size() != expected) {
                fail("raw image of " + std::to_string(sample.image.size()) + " bytes, expected " +
                     std::to_string(expected));
            }
        }
    }

    void write_metadata() {
        File& out = *file;
        const auto n = static_cast<hsize_t>(num_samples());
        const auto m = static_cast<hsize_t>(columns.bbox_labels.size());
        if (!spec.is_raw()) {
            out.write_vector<std::uint64_t>(column::kImageOffsets, image_offsets).close();
        }
        out.write_vector<std::int32_t>(column::kLabels, columns.labels).close();
        out.write_fixed_ascii(column::kSynsets, columns.synsets, kWnidLength).close();
        out.write_fixed_utf8(column::kKeys, columns.keys).close();
        const hsize_t sha_dims[] = {n, 32};
        out.write_array<std::uint8_t>(column::kSourceSha256, columns.source_sha256, sha_dims)
            .close();
        const hsize_t size_dims[] = {n, 2};
        out.write_array<std::int32_t>(column::kSourceSizes, columns.source_sizes, size_dims)
            .close();
        out.write_array<std::int32_t>(column::kSizes, columns.sizes, size_dims).close();
        const hsize_t box_dims[] = {m, 4};
        out.write_array<float>(column::kBboxes, columns.bboxes, box_dims).close();
        out.write_vector<std::uint64_t>(column::kBboxOffsets, columns.bbox_offsets).close();
        out.write_vector<std::int32_t>(column::kBboxLabels, columns.bbox_labels).close();
        out.set_attribute(attribute::kNumSamples, static_cast<std::int64_t>(n));
    }
};

ShardWriter::ShardWriter(ShardSpec spec, const ClassTable& classes)
    : state_(std::make_unique<State>()) {
    State& s = *state_;
    s.spec = std::move(spec);
    const std::filesystem::path directory = s.spec.output_dir / s.spec.split;
    s.final_path =
        directory / shard_file_name(s.spec.split, s.spec.shard_index, s.spec.shard_count);
    s.context = s.final_path.string();
    s.num_classes = static_cast<std::int64_t>(classes.classes.size());
    if (s.spec.split.empty() || s.spec.shard_count < 1 || s.spec.shard_index < 0 ||
        s.spec.shard_index >= s.spec.shard_count || s.spec.encoding.empty()) {
        throw Error(s.context + ": invalid shard spec (split \"" + s.spec.split + "\", shard " +
                    std::to_string(s.spec.shard_index) + " of " +
                    std::to_string(s.spec.shard_count) + ", encoding \"" + s.spec.encoding + "\")");
    }
    if (s.spec.is_raw() && (s.spec.raw_height <= 0 || s.spec.raw_width <= 0)) {
        throw Error(s.context + ": raw encoding needs a positive height and width");
    }
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error) throw_system_error("creating " + directory.string(), error.value());

    s.file.emplace(File::create(s.final_path));
    File& out = *s.file;
    out.set_attribute(attribute::kFormatVersion, kFormatVersion);
    out.set_attribute(attribute::kSplit, s.spec.split);
    out.set_attribute(attribute::kShardIndex, s.spec.shard_index);
    out.set_attribute(attribute::kShardCount, s.spec.shard_count);
    out.set_attribute(attribute::kEncoding, s.spec.encoding);
    out.set_attribute(attribute::kLabelScheme, s.spec.label_scheme);
    Group class_group = out.create_group(group::kClasses);
    write_class_table(class_group, classes, ClassTableContent::for_shard);
    class_group.close();

    if (s.spec.is_raw()) {
        const auto height = static_cast<hsize_t>(s.spec.raw_height);
        const auto width = static_cast<hsize_t>(s.spec.raw_width);
        const hsize_t dims[] = {0, height, width, 3};
        const hsize_t max_dims[] = {kUnlimited, height, width, 3};
        s.images.emplace(out.create_dataset(column::kImages, Datatype::uint8(),
                                            Dataspace::simple(dims, max_dims),
                                            DatasetSettings{.chunk = {1, height, width, 3}}));
    } else {
        if (s.spec.image_bytes) s.chunk_bytes = image_chunk_bytes(*s.spec.image_bytes);
        const hsize_t dims[] = {0};
        const hsize_t max_dims[] = {kUnlimited};
        s.images.emplace(out.create_dataset(column::kImageBytes, Datatype::uint8(),
                                            Dataspace::simple(dims, max_dims),
                                            DatasetSettings{.chunk = {s.chunk_bytes}}));
        s.pending.reserve(s.chunk_bytes);
    }
}

ShardWriter::~ShardWriter() = default;

std::size_t ShardWriter::image_chunk_bytes(std::uint64_t total) {
    if (total == 0) return kImageChunkBytes;
    const std::uint64_t chunks = (total + kImageChunkBytes - 1) / kImageChunkBytes;
    return static_cast<std::size_t>((total + chunks - 1) / chunks);
}

std::uint64_t ShardWriter::num_samples() const {
    return state_->num_samples();
}

void ShardWriter::add(const SampleView& sample) {
    State& s = *state_;
    if (s.finished) throw Error(s.context + ": add() after finish()");
    s.validate(sample);
    if (s.spec.is_raw()) {
        s.append_raw(sample.image);
    } else {
        s.append_encoded(sample.image);
        s.image_offsets.push_back(s.image_offsets.back() + sample.image.size());
    }
    s.columns.append(sample);
}

PublishedShard ShardWriter::finish() {
    State& s = *state_;
    if (s.finished) throw Error(s.context + ": finish() called twice");
    const std::uint64_t image_bytes = s.bytes_written + s.pending.size();
    if (!s.spec.is_raw() && s.spec.image_bytes && *s.spec.image_bytes != image_bytes) {
        throw Error(s.context + ": " + std::to_string(image_bytes) + " image bytes added, " +
                    std::to_string(*s.spec.image_bytes) + " announced");
    }
    if (!s.pending.empty()) {
        s.write_chunk(s.pending);
        s.pending.clear();
    }
    s.images->close();
    s.write_metadata();
    PublishedShard published;
    const FileImage image = s.file->publish(
        [&](std::span<const std::uint8_t> bytes) { published.sha256 = sha256(bytes); });
    s.finished = true;

    published.path = s.final_path;
    published.relative_path =
        shard_relative_path(s.spec.split, s.spec.shard_index, s.spec.shard_count);
    published.num_samples = s.num_samples();
    published.bytes = image.bytes().size();
    return published;
}

}  // namespace synshard::h5
