#include <algorithm>
#include <iostream>
#include <sstream>

#include "synshard/cli/command.hpp"
#include "synshard/convert/options.hpp"
#include "synshard/corpus/options.hpp"
#include "synshard/mpi/phase.hpp"
#include "synshard/plan/partition.hpp"
#include "synshard/plan/plan.hpp"
#include "synshard/survey/survey.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/option_values.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::cli {
namespace {

// More ranks than a partition is worth showing (pieces are 4% of a rank's load).
constexpr int kMaxRanks = 100000;

std::string summary(const plan::Plan& plan, const std::array<std::uint32_t, 2>& shards,
                    std::uint64_t min_per_class, bool per_rank) {
    std::ostringstream text;
    text << "classes: " << plan.classes.size() << " (label scheme "
         << corpus::to_string(plan.label_scheme);
    if (plan.label_scheme == corpus::LabelScheme::ilsvrc2012_id) {
        const auto with_images =
            std::count_if(plan.classes.begin(), plan.classes.end(),
                          [](const plan::ClassEntry& entry) { return entry.images[0] > 0; });
        text << ": the devkit's whole table, " << with_images << " with train images";
    }
    text << ")\n";
    if (!plan.devkit.empty()) text << "devkit: " << plan.devkit << "\n";
    if (!plan.dropped_classes.empty()) {
        text << "dropped classes (fewer than --min-per-class " << min_per_class
             << " train images): " << plan.dropped_classes.size() << "\n";
        for (const auto& dropped : plan.dropped_classes) {
            text << "  " << dropped.wnid << " " << dropped.images << "\n";
        }
    }
    text << "images: train " << plan.images[0] << ", val " << plan.images[1]
         << " (val split: " << plan.val_rule << ")\n";
    if (plan.val_rule == "none") {
        text << "  no val split: give --val-input, --val-per-class or --val-fraction for one\n";
    }
    text << "shards: train " << shards[0] << ", val " << shards[1] << "\n";
    text << "partition: " << count_of(static_cast<std::uint64_t>(plan.ranks), "rank") << ", "
         << count_of(plan.pieces.size(), "piece") << ", load max/mean "
         << plan::max_over_mean(plan.rank_loads) << "\n";
    if (per_rank) {
        for (int rank = 0; rank < plan.ranks; ++rank) {
            std::uint64_t images = 0;
            const auto pieces = plan.pieces_of(rank);
            for (const std::size_t piece : pieces)
                images += plan.pieces[piece].end - plan.pieces[piece].begin;
            text << "  rank " << rank << ": " << count_of(pieces.size(), "piece") << ", "
                 << count_of(images, "image") << ", "
                 << count_of(plan.rank_bytes[static_cast<std::size_t>(rank)], "byte") << "\n";
        }
    }
    text << "scanned " << plan.scanned << ": planned " << plan.images[0] + plan.images[1]
         << ", skipped " << plan.rejected_total() << "\n";
    for (const auto& [reason, count] : plan.rejected_counts) {
        text << "  " << to_string(reason) << ": " << count << "\n";
    }
    const auto& b = plan.boxes;
    if (!plan.box_sources.empty()) {
        text << "boxes (first pixel " << static_cast<int>(plan.box_origin) << "): " << b.boxes
             << " kept from " << count_of(b.files, "annotation") << "; " << b.fixed << " clamped, "
             << b.dropped << " dropped, " << b.unparseable << " unparseable, "
             << count_of(b.class_names, "class name") << " for a wnid, "
             << count_of(b.placeholders, "placeholder file name") << ", " << b.unmatched
             << " for images not planned; " << b.given << " given\n";
    }
    for (const auto& source : plan.box_sources) {
        text << "  " << source.name << ": " << count_of(source.stats.given, "box") << " given of "
             << source.stats.boxes << " read\n";
    }
    for (const auto& warning : plan::box_source_warnings(plan))
        text << "warning: " << warning << "\n";
    for (const auto& note : plan.notes) text << "note: " << note << "\n";
    return text.str();
}

// The sizes of every source's planned items in key order, from a plan made on one rank
// (which holds every piece).
std::vector<std::vector<std::uint64_t>> item_sizes(const survey::PlanResult& result) {
    std::vector<std::vector<std::uint64_t>> sizes(result.plan.sources.size());
    for (std::size_t i = 0; i < result.share.pieces.size(); ++i) {
        auto& source = sizes[result.plan.pieces[result.share.pieces[i]].source];
        for (const auto& item : result.share_items(i)) source.push_back(item.size);
    }
    return sizes;
}

}  // namespace

ExitCode print_plan(const po::variables_map& values, const mpi::Comm& comm) {
    const corpus::CorpusOptions options = corpus::corpus_options_from(values);
    const convert::ShardOptions shard_options = convert::shard_options_from(values);
    const bool other_ranks = values.count("ranks") != 0;
    const int ranks = other_ranks ? values["ranks"].as<int>() : comm.size();
    if (ranks != comm.size() && comm.size() > 1) {
        throw UsageError("--ranks " + std::to_string(ranks) +
                         ": plan computes the partition of that many ranks on one; run it "
                         "without mpirun");
    }
    survey::PlanResult result = survey::make_plan(options, comm);
    plan::Plan& plan = result.plan;
    if (ranks != comm.size()) plan::partition_for(plan, item_sizes(result), ranks);
    // What convert's own check of the plan gives: the counts it writes, or its refusal.
    const auto shards = mpi::run_phase(comm, "shard counts", [&] {
        return convert::shard_counts_for_plan(shard_options, plan.images);
    });
    bool serious = false;
    for (const auto& [reason, count] : plan.rejected_counts) serious |= !is_chosen_cleanup(reason);
    if (!comm.is_root()) return serious ? ExitCode::completed_with_rejections : ExitCode::success;
    const bool json_to_stdout =
        values.count("json") != 0 && values["json"].as<std::string>() == "-";
    (json_to_stdout ? std::cerr : std::cout)
        << summary(plan, shards, options.min_per_class, other_ranks) << std::flush;
    if (values.count("json") != 0) {
        nlohmann::json json = plan::to_json(plan, result.rejected);
        json["shards"] = {
            {"shard_size", shard_options.shard_size}, {"train", shards[0]}, {"val", shards[1]}};
        const std::string text = json.dump(2) + "\n";
        if (json_to_stdout)
            std::cout << text << std::flush;
        else
            write_file_atomically(values["json"].as<std::string>(), text);
    }
    return serious ? ExitCode::completed_with_rejections : ExitCode::success;
}

Command plan_command() {
    Command command;
    command.name = "plan";
    command.summary =
        "Scan a corpus and print what convert would do: classes, splits, shards, per-rank "
        "load, and what is skipped and why. Writes nothing but --json. Reads a job file's "
        "[plan] section, then the options it shares with [convert].";
    command.describe = [](po::options_description& options, po::positional_options_description&) {
        corpus::add_corpus_options(options);
        options.add_options()  //
            ("json", po::value<std::string>()->value_name("FILE"),
             "write the whole plan as JSON ('-' for standard output)")  //
            ("ranks", bounded_value<int>(1, kMaxRanks)->value_name("N"),
             "show the partition N ranks would make, rank by rank, without starting them "
             "(default: the ranks plan runs on) (1..100000)");
        convert::add_shard_options(options);
    };
    command.execute = print_plan;
    command.shared_section = "convert";
    return command;
}

}  // namespace synshard::cli
