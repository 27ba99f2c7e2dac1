#include <algorithm>
#include <cmath>
#include <sstream>

#include "checks.hpp"
#include "synshard/image/pipeline.hpp"
#include "synshard/reader/shard_reader.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::verify {
namespace {

bool same_table(const h5::ClassTable& expected, const h5::ClassTable& actual, bool full) {
    if (expected.classes.size() != actual.classes.size()) return false;
    for (std::size_t c = 0; c < expected.classes.size(); ++c) {
        const auto& a = expected.classes[c];
        const auto& b = actual.classes[c];
        if (a.synset != b.synset || a.words != b.words) return false;
        // Shards carry no glosses (index.h5 does).
        if (full && a.ancestors != b.ancestors) return false;
    }
    return true;
}

bool box_inside(const image::Box& box, std::int32_t height, std::int32_t width) {
    const auto w = static_cast<float>(width);
    const auto h = static_cast<float>(height);
    return std::isfinite(box.xmin) && std::isfinite(box.ymin) && std::isfinite(box.xmax) &&
           std::isfinite(box.ymax) && box.xmin >= 0 && box.ymin >= 0 && box.xmin <= box.xmax &&
           box.ymin <= box.ymax && box.xmax <= w && box.ymax <= h;
}

std::vector<std::uint64_t> rows_to_decode(std::uint64_t rows, const VerifyOptions& options) {
    const std::uint64_t count = options.full ? rows : std::min(rows, options.sample);
    std::vector<std::uint64_t> chosen;
    for (std::uint64_t i = 0; i < count; ++i) chosen.push_back(i * rows / count);
    return chosen;
}

std::string size_text(std::int32_t width, std::int32_t height) {
    return std::to_string(width) + "x" + std::to_string(height);
}

// Where a stored image's content lies in it (docs/FORMAT.md, "stats"): the layout's
// content when the manifest records --resize and the stored size is the layout's, else
// the whole stored image.
image::Rect content_of(const h5::SampleRow& sample, const Reference& reference) {
    if (reference.resize) {
        const image::Layout layout = image::plan_layout({sample.source_width, sample.source_height},
                                                        *reference.resize, reference.upscale);
        if (layout.output == image::Size{sample.width, sample.height}) return layout.content;
    }
    return {0, 0, sample.width, sample.height};
}

void check_rows(const reader::ShardReader& shard, const Reference& reference, ProblemList& problems,
                std::vector<std::string>& keys, std::vector<std::uint64_t>& class_counts) {
    const auto classes = static_cast<std::int64_t>(reference.classes.classes.size());
    const auto known = [&](std::int32_t label) { return label >= 0 && label < classes; };
    class_counts.resize(reference.classes.classes.size());
    for (std::uint64_t row = 0; row < shard.num_samples(); ++row) {
        const h5::SampleRow sample = shard.read_metadata(row);
        const std::string where = "row " + std::to_string(row) + " (\"" + sample.key + "\"): ";
        keys.push_back(sample.key);
        if (known(sample.label)) ++class_counts[static_cast<std::size_t>(sample.label)];
        if (reference.resize && sample.source_width > 0 && sample.source_height > 0) {
            const image::Size output =
                image::plan_layout({sample.source_width, sample.source_height}, *reference.resize,
                                   reference.upscale)
                    .output;
            if (output != image::Size{sample.width, sample.height}) {
                problems.add(where + "stored size " + size_text(sample.width, sample.height) +
                             ", but --resize " + image::to_string(*reference.resize) + " makes " +
                             size_text(output.width, output.height) + " of its " +
                             size_text(sample.source_width, sample.source_height) + " source");
            }
        }
        if (!known(sample.label)) {
            problems.add(where + "label " + std::to_string(sample.label) +
                         " outside the class table of " + std::to_string(classes));
        } else if (const auto& expected =
                       reference.classes.classes[static_cast<std::size_t>(sample.label)].synset;
                   sample.synset != expected) {
            problems.add(where + "synset " + sample.synset + " but label " +
                         std::to_string(sample.label) + " is " + expected);
        }
        if (sample.height <= 0 || sample.width <= 0 || sample.source_height <= 0 ||
            sample.source_width <= 0) {
            problems.add(where + "size not positive: stored " + std::to_string(sample.width) + "x" +
                         std::to_string(sample.height) + ", source " +
                         std::to_string(sample.source_width) + "x" +
                         std::to_string(sample.source_height));
        }
        if (shard.is_raw()) {
            const auto [raw_height, raw_width] = shard.raw_geometry();
            if (sample.height > raw_height || sample.width > raw_width) {
                problems.add(where + "stored size " + std::to_string(sample.width) + "x" +
                             std::to_string(sample.height) + " exceeds the raw geometry " +
                             std::to_string(raw_width) + "x" + std::to_string(raw_height));
            }
        }
        for (std::size_t b = 0; b < sample.boxes.size(); ++b) {
            const image::Box& box = sample.boxes[b];
            if (!box_inside(box, sample.height, sample.width)) {
                std::ostringstream text;
                text << where << "box " << b << " (" << box.xmin << ", " << box.ymin << ", "
                     << box.xmax << ", " << box.ymax << ") is not inside its " << sample.width
                     << "x" << sample.height << " image";
                problems.add(text.str());
            }
            if (!known(sample.box_labels[b])) {
                problems.add(where + "box " + std::to_string(b) + " label " +
                             std::to_string(sample.box_labels[b]) + " outside the class table");
            }
        }
    }
}

void check_index_entries(const std::vector<std::string>& keys,
                         const std::vector<h5::KeyLocation>& entries, ProblemList& problems) {
    if (entries.size() != keys.size()) {
        problems.add("index.h5 lists " + std::to_string(entries.size()) +
                     " keys in this shard, the shard holds " + std::to_string(keys.size()));
    }
    for (const auto& entry : entries) {
        if (entry.row >= keys.size()) {
            problems.add("index.h5 puts \"" + entry.key + "\" at row " + std::to_string(entry.row) +
                         ", past the shard's end");
        } else if (keys[entry.row] != entry.key) {
            problems.add("index.h5 puts \"" + entry.key + "\" at row " + std::to_string(entry.row) +
                         ", which holds \"" + keys[entry.row] + "\"");
        }
    }
}

// The stored pixels of a raw row: its content lies at the top left of the raw geometry.
cv::Mat raw_pixels(h5::SampleRow& sample, std::pair<std::int32_t, std::int32_t> geometry) {
    const auto [height, width] = geometry;
    if (sample.image.size() !=
            static_cast<std::size_t>(height) * static_cast<std::size_t>(width) * 3 ||
        sample.height > height || sample.width > width) {
        throw Error("raw image of " + std::to_string(sample.image.size()) + " bytes for " +
                    size_text(width, height));
    }
    return cv::Mat(height, width, CV_8UC3, sample.image.data());
}

// Decodes the chosen rows (with options.full every row, and then sums a train shard's
// pixels into `pixels`, as the converter did when it stored them).
void check_images(const reader::ShardReader& shard, const Reference& reference,
                  const VerifyOptions& options, ProblemList& problems, Report& report,
                  Tally& tally) {
    const bool sum_pixels = options.full && shard.attributes().split == "train";
    if (shard.is_raw() && !sum_pixels) return;
    image::Pipeline pipeline{image::PipelineOptions{}};
    for (const std::uint64_t row : rows_to_decode(shard.num_samples(), options)) {
        h5::SampleRow sample = shard.read(row);
        try {
            // Encoded shards hold JPEG or PNG bytes (told apart by content) whatever their
            // @encoding says; `original` is the encoding that accepts both.
            const cv::Mat rgb =
                shard.is_raw() ? raw_pixels(sample, shard.raw_geometry())
                               : pipeline.decode_stored(sample.image, image::Encoding::original,
                                                        sample.height, sample.width);
            if (sum_pixels)
                tally.train_pixels += image::pixel_stats(rgb, content_of(sample, reference));
        } catch (const Error& error) {
            tally.complete = false;
            problems.add("row " + std::to_string(row) + " (\"" + sample.key +
                         "\"): does not decode: " + error.what());
        }
        if (!shard.is_raw()) ++report.images_decoded;
    }
}

}  // namespace

std::vector<std::vector<h5::KeyLocation>> entries_by_shard(std::vector<h5::KeyLocation> keys,
                                                           std::uint32_t count) {
    std::vector<std::vector<h5::KeyLocation>> shards(count);
    for (auto& location : keys) {
        if (location.shard < count) shards[location.shard].push_back(std::move(location));
    }
    return shards;
}

void check_shard(const std::filesystem::path& output, const ShardTask& task,
                 const Reference& reference, const std::vector<h5::KeyLocation>* index_entries,
                 const VerifyOptions& options, Report& report, Tally& tally) {
    const manifest::ShardEntry& entry = task.entry;
    ProblemList problems(entry.path, report);
    ++report.shards;
    // A check ended early leaves this shard's pixels out of the train sums.
    const auto end_early = [&](const std::string& what) {
        problems.add(what);
        tally.complete = false;
    };
    const std::filesystem::path path = output / entry.path;
    std::error_code error;
    const std::uint64_t bytes = std::filesystem::file_size(path, error);
    if (error) {
        end_early("missing or unreadable: " + error.message());
        return;
    }
    if (bytes != entry.bytes) problems.add(mismatch("size in bytes", entry.bytes, bytes));
    try {
        const std::string sha256 = to_hex(h5::sha256_of_file(path));
        report.bytes += bytes;
        if (sha256 != entry.sha256) {
            problems.add("sha256 " + sha256 + " differs from the manifest's " + entry.sha256);
        }
    } catch (const Error& failure) {
        end_early(failure.what());
        return;
    }

    // Every read below may meet a Fletcher32 mismatch or a damaged structure: HDF5 then
    // fails the read, and the shard's check ends with that as its problem.
    try {
        const reader::ShardReader shard(path);
        const reader::ShardAttributes& attributes = shard.attributes();
        if (attributes.format_version != reference.format_version) {
            problems.add(mismatch(h5::attribute::kFormatVersion, reference.format_version,
                                  attributes.format_version));
        }
        if (attributes.split != task.split)
            problems.add(mismatch(h5::attribute::kSplit, task.split, attributes.split));
        if (attributes.shard_index != task.index) {
            problems.add(mismatch(h5::attribute::kShardIndex, std::int64_t{task.index},
                                  attributes.shard_index));
        }
        if (attributes.shard_count != task.count) {
            problems.add(mismatch(h5::attribute::kShardCount, std::int64_t{task.count},
                                  attributes.shard_count));
        }
        if (attributes.num_samples != entry.num_samples) {
            problems.add(
                mismatch(h5::attribute::kNumSamples, entry.num_samples, attributes.num_samples));
        }
        if (!reference.encoding.empty() && attributes.encoding != reference.encoding) {
            problems.add(
                mismatch(h5::attribute::kEncoding, reference.encoding, attributes.encoding));
        }
        if (attributes.label_scheme != reference.label_scheme) {
            problems.add(mismatch(h5::attribute::kLabelScheme, reference.label_scheme,
                                  attributes.label_scheme));
        }
        if (!same_table(reference.classes, shard.read_class_table(), reference.full_table)) {
            problems.add(reference.full_table ? "class table differs from index.h5's"
                                              : "class table differs from the manifest's classes");
        }
        report.samples += shard.num_samples();
        std::vector<std::string> keys;
        auto& class_counts = tally.class_counts[task.split];
        check_rows(shard, reference, problems, keys, class_counts);
        if (index_entries != nullptr) check_index_entries(keys, *index_entries, problems);
        std::vector<std::string> sorted = keys;
        std::sort(sorted.begin(), sorted.end());
        for (auto twin = std::adjacent_find(sorted.begin(), sorted.end()); twin != sorted.end();
             twin = std::adjacent_find(std::upper_bound(twin, sorted.end(), *twin), sorted.end())) {
            problems.add("key \"" + *twin + "\" is stored more than once");
        }
        shard.scan_image_data();
        check_images(shard, reference, options, problems, report, tally);
    } catch (const Error& failure) {
        end_early(failure.what());
    }
}

}  // namespace synshard::verify
