#include <iostream>
#include <sstream>

#include "synshard/cli/command.hpp"
#include "synshard/corpus/options.hpp"
#include "synshard/plan/partition.hpp"
#include "synshard/plan/plan.hpp"
#include "synshard/plan/shard_limits.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/option_values.hpp"

namespace synshard::cli {
namespace {

std::uint64_t shard_count(std::uint64_t images, std::uint64_t shard_size,
                          const po::variables_map& values, const char* option) {
    if (values.count(option) != 0) return values[option].as<std::uint64_t>();
    return (images + shard_size - 1) / shard_size;
}

std::string summary(const plan::Plan& plan, const std::array<std::uint64_t, 2>& shards,
                    std::uint64_t min_per_class) {
    std::ostringstream text;
    text << "classes: " << plan.classes.size() << " (label scheme "
         << corpus::to_string(plan.label_scheme) << ")\n";
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
    text << "partition: " << plan.ranks << " rank(s), " << plan.pieces.size()
         << " piece(s), load max/mean " << plan::max_over_mean(plan.rank_bytes) << "\n";
    text << "scanned " << plan.scanned << ": planned " << plan.images[0] + plan.images[1]
         << ", skipped " << plan.rejected_total() << "\n";
    for (const auto& [reason, count] : plan.rejected_counts) {
        text << "  " << to_string(reason) << ": " << count << "\n";
    }
    const auto& b = plan.boxes;
    if (b.files > 0) {
        text << "boxes: " << b.boxes << " kept from " << b.files << " annotation(s); " << b.fixed
             << " clamped, " << b.dropped << " dropped, " << b.unparseable << " unparseable, "
             << b.class_names << " class name(s) for a wnid, " << b.placeholders
             << " placeholder file name(s), " << b.unmatched << " for images not planned\n";
    }
    for (const auto& note : plan.notes) text << "note: " << note << "\n";
    return text.str();
}

}  // namespace

Command plan_command() {
    Command command;
    command.name = "plan";
    command.summary =
        "Scan a corpus and print what convert would do: classes, splits, shards, per-rank "
        "load, and what is skipped and why. Writes nothing but --json.";
    command.describe = [](po::options_description& options, po::positional_options_description&) {
        corpus::add_corpus_options(options);
        options.add_options()  //
            ("json", po::value<std::string>()->value_name("FILE"),
             "write the whole plan as JSON ('-' for standard output)")  //
            ("shard-size",
             bounded_value<std::uint64_t>(1, plan::kMaxShardSize)
                 ->default_value(1024)
                 ->value_name("N"),
             "images per shard: ceil(images / N) shards per split (1..2147483648)")  //
            ("train-shards", bounded_value<std::uint64_t>(1, plan::kMaxShardCount)->value_name("S"),
             "train shard count (1..99999)")  //
            ("val-shards", bounded_value<std::uint64_t>(1, plan::kMaxShardCount)->value_name("S"),
             "val shard count (1..99999)");
    };
    command.execute = [](const po::variables_map& values, const mpi::Comm& comm) {
        const corpus::CorpusOptions options = corpus::corpus_options_from(values);
        const std::uint64_t shard_size = values["shard-size"].as<std::uint64_t>();
        const plan::PlanResult result = plan::make_plan(options, comm);
        const plan::Plan& plan = result.plan;
        const std::array<std::uint64_t, 2> shards{
            shard_count(plan.images[0], shard_size, values, "train-shards"),
            shard_count(plan.images[1], shard_size, values, "val-shards")};
        bool serious = false;
        for (const auto& [reason, count] : plan.rejected_counts)
            serious |= !is_chosen_cleanup(reason);
        if (!comm.is_root())
            return serious ? ExitCode::completed_with_rejections : ExitCode::success;
        const bool json_to_stdout =
            values.count("json") != 0 && values["json"].as<std::string>() == "-";
        (json_to_stdout ? std::cerr : std::cout)
            << summary(plan, shards, options.min_per_class) << std::flush;
        if (values.count("json") != 0) {
            nlohmann::json json = plan::to_json(plan, result.rejected);
            json["shards"] = {{"shard_size", shard_size}, {"train", shards[0]}, {"val", shards[1]}};
            const std::string text = json.dump(2) + "\n";
            if (json_to_stdout)
                std::cout << text << std::flush;
            else
                write_file_atomically(values["json"].as<std::string>(), text);
        }
        return serious ? ExitCode::completed_with_rejections : ExitCode::success;
    };
    return command;
}

}  // namespace synshard::cli
