#include "synshard/verify/verify.hpp"

#include <algorithm>
#include <iomanip>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "checks.hpp"
#include "synshard/mpi/phase.hpp"
#include "synshard/reader/index_reader.hpp"
#include "synshard/util/bytes.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::verify {
namespace {

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
    text << "verified " << count_of(report.shards, "shard") << ", "
         << count_of(report.samples, "sample") << ", " << std::fixed << std::setprecision(1)
         << static_cast<double>(report.bytes) / 1e6 << " MB, "
         << count_of(report.images_decoded, "image") << " decoded: ";
    if (report.ok()) {
        text << "no problems\n";
        return text.str();
    }
    text << count_of(report.problems.size(), "problem") << "\n";
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
