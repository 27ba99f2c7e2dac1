#include "synshard/verify/verify.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_set>

#include "synshard/convert/output_files.hpp"
#include "synshard/image/pipeline.hpp"
#include "synshard/mpi/phase.hpp"
#include "synshard/reader/index_reader.hpp"
#include "synshard/reader/shard_reader.hpp"
#include "synshard/util/bytes.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::verify {
namespace {

// A corrupted shard can be wrong in every row; the list stays readable.
constexpr std::size_t kMaxProblemsPerShard = 20;

// Collects one file's problems, keeping the first kMaxProblemsPerShard.
class ProblemList {
  public:
    ProblemList(std::string file, Report& report) : file_(std::move(file)), report_(report) {}
    ~ProblemList() {
        if (dropped_ > 0) {
            report_.problems.push_back(
                {file_, "... and " + std::to_string(dropped_) + " more problems"});
        }
    }
    ProblemList(const ProblemList&) = delete;
    ProblemList& operator=(const ProblemList&) = delete;

    void add(const std::string& what) {
        if (kept_ == kMaxProblemsPerShard) {
            ++dropped_;
            return;
        }
        ++kept_;
        report_.problems.push_back({file_, what});
    }

  private:
    std::string file_;
    Report& report_;
    std::size_t kept_ = 0;
    std::uint64_t dropped_ = 0;
};

template <class T>
std::string mismatch(const std::string& what, const T& expected, const T& actual) {
    std::ostringstream text;
    text << what << " is " << actual << ", expected " << expected;
    return text.str();
}

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

namespace {

// What index.h5 says, as far as this rank needs it.
struct IndexView {
    bool readable = false;
    std::string encoding;
    h5::ClassTable classes;
    std::map<std::string, std::vector<h5::KeyLocation>> keys;  // split -> every key
};

// manifest.json as read: the document, and the model when the document is one.
struct ManifestView {
    manifest::Json document;
    std::optional<manifest::Manifest> manifest;
    std::string problem;  // why it could not be read; empty when it was
};

ManifestView read_manifest_view(const std::filesystem::path& output) {
    ManifestView view;
    try {
        view.document = manifest::read_document(output / manifest::kManifestFileName);
        view.manifest = manifest::from_json(view.document, manifest::kManifestFileName);
    } catch (const Error& error) {
        view.problem = error.what();
    }
    return view;
}

std::vector<ShardTask> shard_tasks(const manifest::Manifest& manifest) {
    std::vector<ShardTask> tasks;
    for (const auto& [split, entry] : manifest.splits) {
        const auto count = static_cast<std::uint32_t>(entry.shards.size());
        for (std::uint32_t index = 0; index < count; ++index) {
            tasks.push_back({split, index, count, entry.shards[index]});
        }
    }
    return tasks;
}

// Every section of manifest.json against its recorded digest.
void check_digests(const manifest::Json& document, Report& report) {
    ProblemList problems(manifest::kManifestFileName, report);
    if (!document.is_object() || !document.contains(manifest::kDigestsKey)) {
        problems.add(
            "records no section digests (written by an older synshard): an edit cannot "
            "be told");
        return;
    }
    for (const auto& [key, recorded, actual] : manifest::edited_sections(document)) {
        if (recorded.empty()) {
            problems.add("the " + key + " section has no digest");
        } else if (actual.empty()) {
            problems.add("the " + key + " section is missing (its digest " + recorded + ")");
        } else {
            problems.add("the " + key + " section was edited (digest " + actual + ", recorded " +
                         recorded + ")");
        }
    }
}

// The first path in OUT that synshard did not write, if any: the rule convert applies
// before it writes (the default scratch folder, OUT/.scratch, is ours).
std::optional<std::filesystem::path> foreign_path(const std::filesystem::path& output,
                                                  Report& report) {
    try {
        const std::filesystem::path canonical = canonical_path(output);
        auto found = convert::first_foreign_path({canonical, canonical / ".scratch", std::nullopt});
        if (found) {
            const std::string relative = found->lexically_relative(canonical).string();
            report.problems.push_back(
                {relative,
                 "synshard did not write this (and verify reports only the first such "
                 "path)"});
        }
        return found;
    } catch (const Error& error) {
        report.problems.push_back({".", error.what()});
        return std::nullopt;
    }
}

// The manifest's own consistency, and shard files on disk that it does not list.
void check_manifest(const std::filesystem::path& output, const manifest::Manifest& manifest,
                    const std::optional<std::filesystem::path>& foreign, Report& report) {
    ProblemList problems(manifest::kManifestFileName, report);
    if (!h5::is_readable_format_version(manifest.format_version)) {
        std::string readable;
        for (const auto version : h5::kReadableFormatVersions)
            readable += (readable.empty() ? "" : ", ") + std::to_string(version);
        problems.add("format_version " + std::to_string(manifest.format_version) +
                     " is not one this synshard reads (" + readable + ")");
    }
    for (std::size_t c = 0; c < manifest.classes.size(); ++c) {
        if (manifest.classes[c].label != static_cast<std::int32_t>(c)) {
            problems.add("classes[" + std::to_string(c) + "] has label " +
                         std::to_string(manifest.classes[c].label));
        }
    }
    // The seed is recorded twice: as the option given and as the seed the run used.
    if (manifest.options.is_object() && manifest.options.contains("seed") &&
        manifest.options.at("seed") != manifest::Json(manifest.seed)) {
        problems.add("options.seed is " + manifest.options.at("seed").dump() + ", seed " +
                     std::to_string(manifest.seed));
    }
    for (const auto& [split, entry] : manifest.splits) {
        std::uint64_t total = 0;
        std::set<std::string> listed;
        for (std::size_t i = 0; i < entry.shards.size(); ++i) {
            const auto& shard = entry.shards[i];
            total += shard.num_samples;
            const std::string expected =
                h5::shard_relative_path(split, static_cast<std::int64_t>(i),
                                        static_cast<std::int64_t>(entry.shards.size()));
            if (shard.path != expected) {
                problems.add("splits." + split + ".shards[" + std::to_string(i) + "] is " +
                             shard.path + ", expected " + expected);
            }
            listed.insert(std::filesystem::path(shard.path).filename().string());
        }
        if (total != entry.num_samples) {
            problems.add("splits." + split + ".num_samples is " +
                         std::to_string(entry.num_samples) + " but its shards hold " +
                         std::to_string(total));
        }
        std::error_code error;
        for (const auto& file : std::filesystem::directory_iterator(output / split, error)) {
            const std::string name = file.path().filename().string();
            if (listed.count(name) == 0 &&
                !(foreign && std::filesystem::equivalent(file.path(), *foreign, error))) {
                report.problems.push_back(
                    {split + "/" + name,
                     "not listed in the manifest (a leftover of a failed run, or a copy?)"});
            }
        }
    }
}

// Whether `key` is among a split's index entries (sorted by key).
bool holds_key(const std::vector<h5::KeyLocation>& entries, const std::string& key) {
    const auto found = std::lower_bound(
        entries.begin(), entries.end(), key,
        [](const h5::KeyLocation& entry, const std::string& wanted) { return entry.key < wanted; });
    return found != entries.end() && found->key == key;
}

// What the manifest says about the inputs that are in no shard: kept + rejected =
// scanned, each reject once and in no split, every dropped duplicate in a duplicates
// group, every leak group a duplicates group, every grouped key kept or rejected. The
// kept keys are the index's (`index` null when it is unreadable).
void check_accounting(const manifest::Manifest& manifest, const IndexView* index, Report& report) {
    ProblemList problems(manifest::kManifestFileName, report);
    std::uint64_t kept = 0;
    for (const auto& [split, entry] : manifest.splits) kept += entry.num_samples;
    const std::uint64_t rejected = manifest.rejected.size();
    if (!manifest.scanned) {
        problems.add(
            "records no scanned count (written by an older synshard): the accounting "
            "cannot be checked");
    } else if (kept + rejected != *manifest.scanned) {
        problems.add("the accounting does not add up: " + std::to_string(kept) + " kept + " +
                     std::to_string(rejected) + " rejected = " + std::to_string(kept + rejected) +
                     ", but scanned is " + std::to_string(*manifest.scanned));
    }
    const auto is_kept = [&](const std::string& key) {
        return index != nullptr &&
               std::any_of(index->keys.begin(), index->keys.end(),
                           [&](const auto& split) { return holds_key(split.second, key); });
    };
    std::map<std::string, Reason> reasons;
    for (const Rejection& rejection : manifest.rejected) {
        if (!reasons.emplace(rejection.key, rejection.reason).second) {
            problems.add("rejected lists \"" + rejection.key + "\" more than once");
        }
        if (is_kept(rejection.key)) {
            problems.add("rejected lists \"" + rejection.key + "\", which is in a shard");
        }
    }
    std::set<std::string> grouped;
    for (std::size_t g = 0; g < manifest.duplicates.size(); ++g) {
        const auto& group = manifest.duplicates[g];
        const std::string name = "duplicates[" + std::to_string(g) + "]";
        if (group.keys.size() < 2) problems.add(name + " holds fewer than two keys");
        for (const auto& key : group.keys) {
            grouped.insert(key);
            if (reasons.count(key) == 0 && index != nullptr && !is_kept(key)) {
                problems.add(name + " names \"" + key +
                             "\", which is neither in a shard nor rejected");
            }
        }
    }
    for (const auto& [key, reason] : reasons) {
        if (reason == Reason::duplicate && grouped.count(key) == 0) {
            problems.add("rejected lists \"" + key +
                         "\" as a duplicate, but no duplicates group "
                         "names it");
        }
    }
    for (std::size_t g = 0; g < manifest.leaks.size(); ++g) {
        if (std::find(manifest.duplicates.begin(), manifest.duplicates.end(), manifest.leaks[g]) ==
            manifest.duplicates.end()) {
            problems.add("leaks[" + std::to_string(g) + "] is not one of the duplicates groups");
        }
    }
}

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

// index.h5 against the manifest: size and sha256, splits, shard lists, counts, keys
// sorted and unique, label scheme, class table; and its hierarchy against its classes.
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

// The shards' tallies against the manifest's claims: each class's counts and, when every
// train image was summed, the stats (exactly: both come from manifest::stats_of).
void check_tally(const manifest::Manifest& manifest, const Tally& tally,
                 const VerifyOptions& options, Report& report) {
    ProblemList problems(manifest::kManifestFileName, report);
    if (!tally.complete) return;  // the shards not read whole are the problems
    for (const auto& [split, entry] : manifest.splits) {
        const auto found = tally.class_counts.find(split);
        for (std::size_t c = 0; c < manifest.classes.size(); ++c) {
            const auto& summary = manifest.classes[c];
            const auto claimed = summary.counts.find(split);
            const std::uint64_t expected = claimed == summary.counts.end() ? 0 : claimed->second;
            const std::uint64_t held =
                found == tally.class_counts.end() || c >= found->second.size() ? 0
                                                                               : found->second[c];
            if (expected != held) {
                problems.add("classes[" + std::to_string(c) + "] (" + summary.synset + ") counts." +
                             split + " is " + std::to_string(expected) + ", its shards hold " +
                             std::to_string(held));
            }
        }
    }
    if (!options.full) return;
    const auto& sums = tally.train_pixels;
    const manifest::PixelStats stored =
        manifest::stats_of(sums.sum, sums.sum_of_squares, sums.pixels);
    const auto text = [](const std::array<double, 3>& values) {
        std::ostringstream out;
        out << std::setprecision(17) << "[" << values[0] << ", " << values[1] << ", " << values[2]
            << "]";
        return out.str();
    };
    if (stored.mean != manifest.stats.mean) {
        problems.add("stats.mean is " + text(manifest.stats.mean) +
                     ", the stored train pixels give " + text(stored.mean));
    }
    if (stored.std != manifest.stats.std) {
        problems.add("stats.std is " + text(manifest.stats.std) +
                     ", the stored train pixels give " + text(stored.std));
    }
}

// Every shard's sha256 against a reference run's manifest (as convert --expect-manifest).
void check_expectation(const std::filesystem::path& reference, const manifest::Manifest& manifest,
                       Report& report) {
    try {
        for (const auto& difference :
             manifest::compare_shards(manifest::read_manifest(reference), manifest)) {
            const auto shown = [](const std::string& sha) { return sha.empty() ? "missing" : sha; };
            report.problems.push_back(
                {difference.path, "sha256 " + shown(difference.actual_sha256) + ", the reference " +
                                      reference.string() + " has " +
                                      shown(difference.expected_sha256)});
        }
    } catch (const Error& error) {
        report.problems.push_back({reference.string(), error.what()});
    }
}

void write_report(ByteWriter& writer, const Report& report) {
    writer.put(report.shards);
    writer.put(report.samples);
    writer.put(report.bytes);
    writer.put(report.images_decoded);
    writer.put<std::uint64_t>(report.problems.size());
    for (const auto& problem : report.problems) {
        writer.put_string(problem.file);
        writer.put_string(problem.what);
    }
}

void read_report(ByteReader& reader, Report& report) {
    report.shards += reader.get<std::uint64_t>();
    report.samples += reader.get<std::uint64_t>();
    report.bytes += reader.get<std::uint64_t>();
    report.images_decoded += reader.get<std::uint64_t>();
    const auto count = reader.get<std::uint64_t>();
    for (std::uint64_t i = 0; i < count; ++i) {
        Problem problem;
        problem.file = reader.get_string();
        problem.what = reader.get_string();
        report.problems.push_back(std::move(problem));
    }
}

void write_tally(ByteWriter& writer, const Tally& tally) {
    writer.put<std::uint64_t>(tally.class_counts.size());
    for (const auto& [split, counts] : tally.class_counts) {
        writer.put_string(split);
        writer.put<std::uint64_t>(counts.size());
        for (const std::uint64_t count : counts) writer.put(count);
    }
    writer.put(tally.train_pixels);
    writer.put<std::uint8_t>(tally.complete ? 1 : 0);
}

// Adds a rank's tally to `total`.
void read_tally(ByteReader& reader, Tally& total) {
    for (auto splits = reader.get<std::uint64_t>(); splits > 0; --splits) {
        auto& counts = total.class_counts[reader.get_string()];
        const auto size = reader.get<std::uint64_t>();
        if (counts.size() < size) counts.resize(size);
        for (std::uint64_t c = 0; c < size; ++c) counts[c] += reader.get<std::uint64_t>();
    }
    total.train_pixels += reader.get<image::PixelStats>();
    total.complete = reader.get<std::uint8_t>() != 0 && total.complete;
}

// The root's checks of the manifest, index.h5 and OUT's files (this rank's share of the
// shards aside). Fills `view` with what this rank's shards need of index.h5 (`splits`).
void check_root(const VerifyOptions& options, const ManifestView& manifest_view,
                const std::set<std::string>& splits, IndexView& view, Report& report) {
    const auto foreign = foreign_path(options.output, report);
    if (!manifest_view.document.is_null()) check_digests(manifest_view.document, report);
    if (!manifest_view.manifest) return;
    const manifest::Manifest& manifest = *manifest_view.manifest;
    check_manifest(options.output, manifest, foreign, report);
    if (options.expect_manifest) check_expectation(*options.expect_manifest, manifest, report);
    std::optional<reader::IndexReader> index;
    try {
        index.emplace(options.output / h5::kIndexFileName);
        view.encoding = index->encoding();
        view.classes = index->read_class_table();
        for (const auto& split : splits) view.keys[split] = index->read_keys(split);
        view.readable = true;
    } catch (const Error& error) {
        report.problems.push_back({h5::kIndexFileName, error.what()});
    }
    check_accounting(manifest, view.readable ? &view : nullptr, report);
    if (!view.readable) return;
    try {
        check_index(options.output, *index, view, manifest, report);
    } catch (const Error& error) {
        report.problems.push_back({h5::kIndexFileName, error.what()});
    }
}

}  // namespace

Report verify(const VerifyOptions& options, const mpi::Comm& comm) {
    const ManifestView manifest_view =
        mpi::run_phase(comm, "read manifest", [&] { return read_manifest_view(options.output); });
    const std::vector<ShardTask> tasks =
        manifest_view.manifest ? shard_tasks(*manifest_view.manifest) : std::vector<ShardTask>{};
    const auto ranks = static_cast<std::size_t>(comm.size());
    const auto rank = static_cast<std::size_t>(comm.rank());

    Report local;
    Tally tally;
    mpi::run_phase(comm, "check", [&] {
        if (!manifest_view.manifest) {
            if (comm.is_root()) {
                local.problems.push_back({manifest::kManifestFileName, manifest_view.problem});
                IndexView unread;
                check_root(options, manifest_view, {}, unread, local);
            }
            return;
        }
        const manifest::Manifest& manifest = *manifest_view.manifest;
        std::set<std::string> needed;
        for (std::size_t t = rank; t < tasks.size(); t += ranks) needed.insert(tasks[t].split);
        IndexView view;
        if (comm.is_root()) {
            for (const auto& [split, entry] : manifest.splits) needed.insert(split);
            check_root(options, manifest_view, needed, view, local);
        } else {
            try {
                const reader::IndexReader index(options.output / h5::kIndexFileName);
                view.encoding = index.encoding();
                view.classes = index.read_class_table();
                for (const auto& split : needed) view.keys[split] = index.read_keys(split);
                view.readable = true;
            } catch (const Error&) {
                // The root reports it.
            }
        }

        Reference reference;
        reference.label_scheme = manifest.label_scheme;
        reference.format_version = manifest.format_version;
        if (view.readable) {
            reference.classes = view.classes;
            reference.full_table = true;
            reference.encoding = view.encoding;
        } else {
            for (const auto& entry : manifest.classes) {
                reference.classes.classes.push_back({entry.synset, entry.words, {}, {}});
            }
        }
        if (manifest.options.is_object() && manifest.options.contains("resize")) {
            try {
                reference.resize =
                    image::parse_resize(manifest.options.at("resize").get<std::string>());
                reference.upscale = !manifest.options.value("no-upscale", false);
            } catch (const std::exception& error) {
                if (comm.is_root()) {
                    local.problems.push_back({manifest::kManifestFileName,
                                              std::string("options.resize: ") + error.what()});
                }
            }
        }
        std::map<std::string, std::vector<std::vector<h5::KeyLocation>>> entries;
        for (auto& [split, keys] : view.keys) {
            entries[split] = entries_by_shard(
                std::move(keys),
                static_cast<std::uint32_t>(manifest.splits.at(split).shards.size()));
        }
        for (std::size_t t = rank; t < tasks.size(); t += ranks) {
            const ShardTask& task = tasks[t];
            check_shard(options.output, task, reference,
                        view.readable ? &entries[task.split][task.index] : nullptr, options, local,
                        tally);
        }
    });

    ByteWriter mine;
    write_report(mine, local);
    write_tally(mine, tally);
    const auto gathered = comm.gather(mine.buffer());
    ByteWriter merged;
    if (comm.is_root()) {
        Report all;
        Tally total;
        for (const auto& bytes : gathered) {
            ByteReader reader(bytes);
            read_report(reader, all);
            read_tally(reader, total);
        }
        if (manifest_view.manifest) check_tally(*manifest_view.manifest, total, options, all);
        // Problems of one file come from one rank, in the order it found them.
        std::stable_sort(all.problems.begin(), all.problems.end(),
                         [](const Problem& a, const Problem& b) { return a.file < b.file; });
        write_report(merged, all);
    }
    const auto bytes = comm.broadcast(merged.buffer());
    Report report;
    ByteReader reader(bytes);
    read_report(reader, report);
    return report;
}

std::string describe(const Report& report) {
    std::ostringstream text;
    text << "verified " << report.shards << " shards, " << report.samples << " samples, "
         << std::fixed << std::setprecision(1) << static_cast<double>(report.bytes) / 1e6 << " MB, "
         << report.images_decoded << " images decoded: ";
    if (report.ok()) {
        text << "no problems\n";
        return text.str();
    }
    text << report.problems.size() << (report.problems.size() == 1 ? " problem" : " problems")
         << "\n";
    for (const auto& problem : report.problems)
        text << "  " << problem.file << ": " << problem.what << "\n";
    return text.str();
}

nlohmann::ordered_json to_json(const Report& report) {
    nlohmann::ordered_json problems = nlohmann::ordered_json::array();
    for (const auto& problem : report.problems) {
        problems.push_back({{"file", problem.file}, {"problem", problem.what}});
    }
    return {{"ok", report.ok()},
            {"shards", report.shards},
            {"samples", report.samples},
            {"bytes", report.bytes},
            {"images_decoded", report.images_decoded},
            {"problems", problems}};
}

}  // namespace synshard::verify
