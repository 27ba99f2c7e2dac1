#include "synshard/verify/verify.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_set>

#include "synshard/image/pipeline.hpp"
#include "synshard/mpi/phase.hpp"
#include "synshard/reader/index_reader.hpp"
#include "synshard/reader/shard_reader.hpp"
#include "synshard/util/bytes.hpp"
#include "synshard/util/error.hpp"

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
        if (a.synset != b.synset) return false;
        // Shards carry no glosses (index.h5 does).
        if (full && (a.words != b.words || a.ancestors != b.ancestors)) return false;
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

void check_rows(const reader::ShardReader& shard, const Reference& reference, ProblemList& problems,
                std::vector<std::string>& keys) {
    const auto classes = static_cast<std::int64_t>(reference.classes.classes.size());
    const auto known = [&](std::int32_t label) { return label >= 0 && label < classes; };
    for (std::uint64_t row = 0; row < shard.num_samples(); ++row) {
        const h5::SampleRow sample = shard.read_metadata(row);
        const std::string where = "row " + std::to_string(row) + " (\"" + sample.key + "\"): ";
        keys.push_back(sample.key);
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

void check_images(const reader::ShardReader& shard, const VerifyOptions& options,
                  ProblemList& problems, Report& report) {
    if (shard.is_raw()) return;
    image::Pipeline pipeline{image::PipelineOptions{}};
    for (const std::uint64_t row : rows_to_decode(shard.num_samples(), options)) {
        const h5::SampleRow sample = shard.read(row);
        try {
            // Encoded shards hold JPEG or PNG bytes (told apart by content) whatever their
            // @encoding says; `original` is the encoding that accepts both.
            pipeline.decode_stored(sample.image, image::Encoding::original, sample.height,
                                   sample.width);
        } catch (const Error& error) {
            problems.add("row " + std::to_string(row) + " (\"" + sample.key +
                         "\"): does not decode: " + error.what());
        }
        ++report.images_decoded;
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
                 const VerifyOptions& options, Report& report) {
    const manifest::ShardEntry& entry = task.entry;
    ProblemList problems(entry.path, report);
    ++report.shards;
    const std::filesystem::path path = output / entry.path;
    std::error_code error;
    const std::uint64_t bytes = std::filesystem::file_size(path, error);
    if (error) {
        problems.add("missing or unreadable: " + error.message());
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
        problems.add(failure.what());
        return;
    }

    // Every read below may meet a Fletcher32 mismatch or a damaged structure: HDF5 then
    // fails the read, and the shard's check ends with that as its problem.
    try {
        const reader::ShardReader shard(path);
        const reader::ShardAttributes& attributes = shard.attributes();
        if (attributes.format_version != h5::kFormatVersion) {
            problems.add(mismatch(h5::attribute::kFormatVersion, h5::kFormatVersion,
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
            problems.add("class table differs from index.h5's");
        }
        report.samples += shard.num_samples();
        std::vector<std::string> keys;
        check_rows(shard, reference, problems, keys);
        if (index_entries != nullptr) check_index_entries(keys, *index_entries, problems);
        std::vector<std::string> sorted = keys;
        std::sort(sorted.begin(), sorted.end());
        for (auto twin = std::adjacent_find(sorted.begin(), sorted.end()); twin != sorted.end();
             twin = std::adjacent_find(std::upper_bound(twin, sorted.end(), *twin), sorted.end())) {
            problems.add("key \"" + *twin + "\" is stored more than once");
        }
        shard.scan_image_data();
        check_images(shard, options, problems, report);
    } catch (const Error& failure) {
        problems.add(failure.what());
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

// The manifest's own consistency, and files on disk that it does not list.
void check_manifest(const std::filesystem::path& output, const manifest::Manifest& manifest,
                    Report& report) {
    ProblemList problems(manifest::kManifestFileName, report);
    for (std::size_t c = 0; c < manifest.classes.size(); ++c) {
        if (manifest.classes[c].label != static_cast<std::int32_t>(c)) {
            problems.add("classes[" + std::to_string(c) + "] has label " +
                         std::to_string(manifest.classes[c].label));
        }
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
            if (listed.count(name) == 0) {
                report.problems.push_back(
                    {split + "/" + name,
                     "not listed in the manifest (a leftover of a failed run?)"});
            }
        }
    }
}

// "splits/<split>/<name>": how a problem names an object of index.h5's group of split.
std::string split_object(const std::string& split, const std::string& name) {
    return std::string(h5::group::kSplits) + "/" + split + "/" + name;
}

// index.h5 against the manifest: splits, shard lists, counts, keys sorted and unique.
void check_index(const reader::IndexReader& index, const IndexView& view,
                 const manifest::Manifest& manifest, Report& report) {
    ProblemList problems(h5::kIndexFileName, report);
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
    h5::ClassTable manifest_table;
    for (const auto& entry : manifest.classes)
        manifest_table.classes.push_back({entry.synset, {}, {}, {}});
    if (!same_table(manifest_table, view.classes, false)) {
        problems.add("class table synsets differ from the manifest's classes");
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

}  // namespace

Report verify(const VerifyOptions& options, const mpi::Comm& comm) {
    const auto manifest = mpi::run_phase(comm, "read manifest", [&] {
        return manifest::read_manifest(options.output / manifest::kManifestFileName);
    });
    const std::vector<ShardTask> tasks = shard_tasks(manifest);
    const auto ranks = static_cast<std::size_t>(comm.size());
    const auto rank = static_cast<std::size_t>(comm.rank());

    Report local;
    mpi::run_phase(comm, "check", [&] {
        std::set<std::string> needed;
        for (std::size_t t = rank; t < tasks.size(); t += ranks) needed.insert(tasks[t].split);
        if (comm.is_root()) {
            for (const auto& [split, entry] : manifest.splits) needed.insert(split);
        }
        IndexView view;
        std::optional<reader::IndexReader> index;
        try {
            index.emplace(options.output / h5::kIndexFileName);
            view.encoding = index->encoding();
            view.classes = index->read_class_table();
            for (const auto& split : needed) view.keys[split] = index->read_keys(split);
            view.readable = true;
        } catch (const Error& error) {
            if (comm.is_root()) local.problems.push_back({h5::kIndexFileName, error.what()});
        }
        if (comm.is_root()) {
            check_manifest(options.output, manifest, local);
            if (view.readable) {
                try {
                    check_index(*index, view, manifest, local);
                } catch (const Error& error) {
                    local.problems.push_back({h5::kIndexFileName, error.what()});
                }
            }
        }
        index.reset();

        Reference reference;
        reference.label_scheme = manifest.label_scheme;
        if (view.readable) {
            reference.classes = view.classes;
            reference.full_table = true;
            reference.encoding = view.encoding;
        } else {
            for (const auto& entry : manifest.classes) {
                reference.classes.classes.push_back({entry.synset, {}, {}, {}});
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
            if (view.readable) {
                check_shard(options.output, task, reference, &entries[task.split][task.index],
                            options, local);
            } else {
                check_shard(options.output, task, reference, nullptr, options, local);
            }
        }
    });

    ByteWriter mine;
    write_report(mine, local);
    const auto gathered = comm.gather(mine.buffer());
    ByteWriter merged;
    if (comm.is_root()) {
        Report all;
        for (const auto& bytes : gathered) {
            ByteReader reader(bytes);
            read_report(reader, all);
        }
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
