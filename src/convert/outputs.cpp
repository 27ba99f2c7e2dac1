#include "synshard/convert/outputs.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "conversion.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::convert {

std::string expectation_failure(const Journal::Expectation& expectation) {
    std::string text = count_of(expectation.differences.size(), "shard") +
                       (expectation.differences.size() == 1 ? " differs" : " differ") + " from " +
                       expectation.reference + ":";
    for (const auto& difference : expectation.differences) text += "\n  " + difference;
    return text;
}

Journal::Expectation compare_with(const std::filesystem::path& reference,
                                  const manifest::Manifest& actual) {
    Journal::Expectation expectation{reference.string(), {}};
    for (const auto& difference :
         manifest::compare_shards(manifest::read_manifest(reference), actual)) {
        expectation.differences.push_back(manifest::describe(difference));
    }
    return expectation;
}

h5::ClassTable class_table_of(const plan::Plan& plan) {
    h5::ClassTable table;
    for (const auto& entry : plan.classes) {
        table.classes.push_back({entry.wnid, entry.words, entry.gloss, entry.ancestors});
    }
    return table;
}

manifest::Manifest build_manifest(const plan::Plan& plan,
                                  const nlohmann::ordered_json& recorded_options,
                                  GatheredOutcome outcome) {
    manifest::Manifest result = manifest::make_manifest();
    result.options = recorded_options;
    result.input_fingerprint = plan.input_fingerprint;
    result.seed = plan.seed;
    result.label_scheme = std::string(corpus::to_string(plan.label_scheme));
    result.box_origin = static_cast<std::int64_t>(plan.box_origin);
    result.scanned = plan.scanned;
    result.rejected = std::move(outcome.rejected);
    std::sort(result.rejected.begin(), result.rejected.end(),
              [](const Rejection& a, const Rejection& b) { return a.key < b.key; });
    const auto by_digest = [](const manifest::KeyGroup& a, const manifest::KeyGroup& b) {
        return a.source_sha256 < b.source_sha256;
    };
    result.duplicates = std::move(outcome.duplicates);
    std::sort(result.duplicates.begin(), result.duplicates.end(), by_digest);
    result.leaks = std::move(outcome.leaks);
    std::sort(result.leaks.begin(), result.leaks.end(), by_digest);
    for (const Split split : {Split::train, Split::val})
        result.splits[std::string(corpus::to_string(split))];
    // The map is in path order, and a split's shard names sort by index.
    for (const auto& [path, shard] : outcome.shards) {
        auto& entry = result.splits[path.substr(0, path.find('/'))];
        entry.shards.push_back(shard);
        entry.num_samples += shard.num_samples;
    }
    for (const auto& entry : plan.classes) {
        manifest::ClassSummary summary{entry.label, entry.wnid, entry.words, {}};
        for (const Split split : {Split::train, Split::val}) {
            summary.counts[std::string(corpus::to_string(split))] =
                outcome.class_counts[split_index(split)][static_cast<std::size_t>(entry.label)];
        }
        result.classes.push_back(std::move(summary));
    }
    const auto& sums = outcome.pixel_sums;
    result.stats =
        manifest::stats_of({sums[0], sums[1], sums[2]}, {sums[3], sums[4], sums[5]}, sums[6]);
    return result;
}

h5::IndexContents build_index(const plan::Plan& plan, const image::PipelineOptions& pipeline,
                              const manifest::Manifest& manifest,
                              std::array<h5::KeyLocations, 2> keys) {
    h5::IndexContents index;
    index.encoding = std::string(image::to_string(pipeline.encoding));
    if (pipeline.encoding == image::Encoding::raw) {
        index.raw_height = pipeline.resize.height;
        index.raw_width = pipeline.resize.width;
    }
    index.label_scheme = manifest.label_scheme;
    index.classes = class_table_of(plan);
    for (const auto& node : plan.hierarchy.nodes) {
        index.hierarchy.nodes.push_back({node.wnid, node.words, node.gloss, node.depth});
    }
    for (const auto& [parent, child] : plan.hierarchy.edges) {
        index.hierarchy.edges.emplace_back(static_cast<std::int32_t>(parent),
                                           static_cast<std::int32_t>(child));
    }
    for (const auto& entry : plan.classes) {
        index.hierarchy.class_nodes.push_back(
            static_cast<std::int32_t>(plan.hierarchy.index_of(entry.wnid)));
    }
    for (const Split split : {Split::train, Split::val}) {
        h5::SplitIndex entry;
        entry.name = std::string(corpus::to_string(split));
        for (const auto& shard : manifest.splits.at(entry.name).shards) {
            entry.shard_num_samples.push_back(shard.num_samples);
        }
        entry.keys = std::move(keys[split_index(split)]);
        index.splits.push_back(std::move(entry));
    }
    return index;
}

ExitCode completion_code(const manifest::Manifest& manifest) {
    const bool some_rejected =
        std::any_of(manifest.rejected.begin(), manifest.rejected.end(),
                    [](const Rejection& r) { return !is_chosen_cleanup(r.reason); });
    return some_rejected ? ExitCode::completed_with_rejections : ExitCode::success;
}

GatheredOutcome Conversion::gather_outcome(std::array<h5::KeyLocations, kSplits>& keys) {
    // Everything the manifest and the index need goes to the root, in one message a rank.
    ByteWriter mine;
    write_rejections(mine, rejected_);
    manifest::write_groups(mine, duplicates_);
    manifest::write_groups(mine, leaks_);
    for (auto& locations : locations_) {
        mine.put<std::uint64_t>(locations.size());
        for (std::size_t i = 0; i < locations.size(); ++i) {
            mine.put_string(locations.key(i));
            mine.put(locations.shard(i));
            mine.put(locations.row(i));
        }
        locations = {};
    }
    std::vector<std::uint64_t> local_sums(train_sums_.sum.begin(), train_sums_.sum.end());
    local_sums.insert(local_sums.end(), train_sums_.sum_of_squares.begin(),
                      train_sums_.sum_of_squares.end());
    local_sums.push_back(train_sums_.pixels);
    const auto total_sums = comm_.sum(std::span<const std::uint64_t>(local_sums));
    images_ = {};
    keys_ = {};
    auto gathered = comm_.gather(mine.buffer());
    mine = {};

    GatheredOutcome outcome;
    if (!comm_.is_root()) return outcome;
    outcome.rejected = plan_.rejected;
    for (auto& bytes : gathered) {
        ByteReader reader(bytes);
        auto rejections = read_rejections(reader);
        outcome.rejected.insert(outcome.rejected.end(), rejections.begin(), rejections.end());
        auto duplicates = manifest::read_groups(reader);
        outcome.duplicates.insert(outcome.duplicates.end(), duplicates.begin(), duplicates.end());
        auto leaks = manifest::read_groups(reader);
        outcome.leaks.insert(outcome.leaks.end(), leaks.begin(), leaks.end());
        for (auto& split_keys : keys) {
            for (auto count = reader.get<std::uint64_t>(); count > 0; --count) {
                const auto key = reader.get_bytes();
                const auto shard = reader.get<std::uint32_t>();
                split_keys.push_back(
                    std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), shard,
                    reader.get<std::uint32_t>());
            }
        }
        bytes = {};  // each rank's message is released once read
    }
    for (const auto& [path, shard] : journal_->shards) outcome.shards.emplace(path, shard.entry);
    outcome.class_counts = class_counts_;
    std::copy(total_sums.begin(), total_sums.end(), outcome.pixel_sums.begin());
    return outcome;
}

ExitCode Conversion::finish() {
    const auto start = Clock::now();
    std::array<h5::KeyLocations, kSplits> keys;
    std::optional<GatheredOutcome> outcome;
    // Reading the gathered messages can fail (a torn message): on the root, in a phase.
    mpi::run_phase(comm_, "gather", [&] { outcome = gather_outcome(keys); });
    std::int64_t code = to_int(ExitCode::success);
    mpi::run_phase(comm_, "manifest", [&] {
        if (!comm_.is_root()) return;
        auto result = build_manifest(plan_.plan, options_.effective, std::move(*outcome));
        timings_["manifest"] = seconds_since(start);
        timings_["total"] = seconds_since(start_);
        for (const auto& [phase, seconds] : timings_) result.timings[phase] = seconds;
        h5::write_index(options_.output,
                        build_index(plan_.plan, options_.pipeline, result, std::move(keys)));
        const auto index = options_.output / h5::kIndexFileName;
        result.index = manifest::FileEntry{std::filesystem::file_size(index),
                                           to_hex(h5::sha256_of_file(index))};

        code = to_int(completion_code(result));
        // The comparison is part of finishing: its outcome is journaled with the rest, so
        // a rerun reports it again instead of "already complete". The journal says so
        // before manifest.json exists, so that an output with a manifest always has its
        // exit code recorded (a rerun finds a journal that finished without a manifest
        // unfinished).
        journal_->finished = true;
        journal_->exit_code = static_cast<int>(code);
        if (options_.expect_manifest) {
            journal_->expectation = compare_with(*options_.expect_manifest, result);
        }
        write_journal(options_.output, *journal_);
        manifest::write_manifest(options_.output / manifest::kManifestFileName, result);
        log_summary(result);
        if (const auto& expectation = journal_->expectation) {
            if (expectation->differences.empty()) {
                log::info("every shard matches " + expectation->reference);
            } else {
                code = to_int(ExitCode::failure);
            }
        }
    });
    return static_cast<ExitCode>(comm_.max(code));
}

void Conversion::log_summary(manifest::Manifest& result) {
    std::ostringstream summary;
    summary << "converted " << result.splits["train"].num_samples << " train and "
            << count_of(result.splits["val"].num_samples, "val image") << " into "
            << count_of(result.splits["train"].shards.size() + result.splits["val"].shards.size(),
                        "shard")
            << " in " << std::fixed << std::setprecision(1) << timings_["total"] << " s; "
            << count_of(result.rejected.size(), "input") << " rejected, "
            << count_of(result.duplicates.size(), "duplicate group") << ", "
            << count_of(result.leaks.size(), "train/val leak") << "; output in "
            << options_.output.string();
    log::info(summary.str());
    for (const auto& warning : plan::box_source_warnings(plan_.plan)) log::warn(warning);
}

}  // namespace synshard::convert
