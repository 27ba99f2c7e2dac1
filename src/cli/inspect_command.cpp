#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>

#include "synshard/cli/command.hpp"
#include "synshard/cli/inspect_plot.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/cli/root_only.hpp"
#include "synshard/cli/synset_text.hpp"
#include "synshard/cli/tab_separated.hpp"
#include "synshard/reader/dataset.hpp"
#include "synshard/reader/picture.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/quantity.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::cli {
namespace {

using Json = nlohmann::ordered_json;

std::uint64_t split_bytes(const manifest::SplitEntry& split) {
    std::uint64_t bytes = 0;
    for (const auto& shard : split.shards) bytes += shard.bytes;
    return bytes;
}

// Class counts of a split, by label.
std::vector<std::uint64_t> class_counts(const manifest::Manifest& manifest,
                                        const std::string& split) {
    std::vector<std::uint64_t> counts;
    for (const auto& entry : manifest.classes) {
        const auto found = entry.counts.find(split);
        counts.push_back(found == entry.counts.end() ? 0 : found->second);
    }
    return counts;
}

Json key_groups(const std::vector<manifest::KeyGroup>& groups) {
    std::size_t keys = 0;
    for (const auto& group : groups) keys += group.keys.size();
    return Json{{"groups", groups.size()}, {"keys", keys}};
}

// Everything `inspect` reports, as the JSON document --json writes; the text is made
// from it, so both always agree.
Json summarize(const reader::Dataset& dataset) {
    const manifest::Manifest& manifest = dataset.manifest();
    Json summary;
    summary["output"] = dataset.directory().string();
    summary["format_version"] = manifest.format_version;
    summary["tool_version"] = manifest.tool_version;
    summary["encoding"] = dataset.encoding();
    const Json& options = manifest.options;
    summary["quality"] = options.value("quality", Json());
    summary["resize"] = options.value("resize", Json());
    summary["label_scheme"] = manifest.label_scheme;
    summary["seed"] = manifest.seed;
    summary["input_fingerprint"] = manifest.input_fingerprint;
    summary["num_classes"] = manifest.classes.size();
    std::uint64_t samples = 0, shards = 0, bytes = 0;
    Json splits = Json::object();
    for (const auto& [name, split] : manifest.splits) {
        const std::vector<std::uint64_t> counts = class_counts(manifest, name);
        const auto [least, most] = std::minmax_element(counts.begin(), counts.end());
        splits[name] = Json{{"num_samples", split.num_samples},
                            {"shards", split.shards.size()},
                            {"bytes", split_bytes(split)},
                            {"images_per_class",
                             {{"min", least == counts.end() ? 0 : *least},
                              {"max", most == counts.end() ? 0 : *most}}}};
        samples += split.num_samples;
        shards += split.shards.size();
        bytes += split_bytes(split);
    }
    summary["splits"] = splits;
    summary["total"] = Json{{"num_samples", samples}, {"shards", shards}, {"bytes", bytes}};
    std::map<std::string, std::uint64_t> by_reason;
    for (const Rejection& rejection : manifest.rejected)
        ++by_reason[std::string(to_string(rejection.reason))];
    summary["rejected"] = Json{{"total", manifest.rejected.size()}, {"by_reason", by_reason}};
    summary["duplicates"] = key_groups(manifest.duplicates);
    summary["leaks"] = key_groups(manifest.leaks);
    summary["stats"] = Json{{"mean", manifest.stats.mean}, {"std", manifest.stats.std}};
    return summary;
}

// One synset of the hierarchy: a class with its counts, or an inner node with the classes
// below it (every class that is-a it) and their summed counts.
Json describe_synset(const reader::Dataset& dataset, const std::string& wnid) {
    const wordnet::Hierarchy& hierarchy = dataset.hierarchy();
    if (!hierarchy.contains(wnid)) {
        throw UsageError("--class " + wnid + ": neither a class of " +
                         dataset.directory().string() + " nor one of their ancestors");
    }
    const wordnet::Synset& synset = hierarchy.synset(wnid);
    Json result;
    result["synset"] = wnid;
    result["words"] = synset.words;
    result["gloss"] = synset.gloss;
    result["depth"] = hierarchy.depth(wnid);
    Json paths = Json::array();
    for (const auto& path : hierarchy.paths_to_root(wnid)) {
        Json names = Json::array();
        std::transform(path.rbegin(), path.rend(), std::back_inserter(names),
                       [&](const std::string& step) {
                           return Json{{"synset", step}, {"words", hierarchy.synset(step).words}};
                       });
        paths.push_back(names);
    }
    result["paths"] = paths;
    const manifest::Manifest& manifest = dataset.manifest();
    const std::optional<std::int32_t> label = dataset.label_of(wnid);
    result["label"] = label ? Json(*label) : Json();
    Json classes = Json::array();
    std::map<std::string, std::uint64_t> counts;
    for (const auto& entry : manifest.classes) {
        if (!dataset.is_a(entry.label, wnid)) continue;
        classes.push_back(
            Json{{"label", entry.label}, {"synset", entry.synset}, {"words", entry.words}});
        for (const auto& [split, count] : entry.counts) counts[split] += count;
    }
    result["classes"] = classes;
    result["counts"] = counts;
    // Train keys start with their synset ("n01440764/..."); val keys carry no class.
    const std::string prefix = wnid + "/";
    std::map<std::string, std::uint64_t> rejected;
    for (const Rejection& rejection : manifest.rejected) {
        if (rejection.key.starts_with(prefix)) ++rejected[std::string(to_string(rejection.reason))];
    }
    result["rejected_train_inputs"] = rejected;
    return result;
}

std::string megabytes(std::uint64_t bytes) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / 1e6 << " MB";
    return text.str();
}

std::string reasons_text(const Json& by_reason) {
    std::string text;
    for (const auto& [reason, count] : by_reason.items()) {
        text +=
            (text.empty() ? "" : ", ") + reason + " " + std::to_string(count.get<std::uint64_t>());
    }
    return text;
}

std::string render_summary(const Json& s) {
    std::ostringstream text;
    const auto line = [&](const std::string& name) -> std::ostream& {
        return text << "  " << std::left << std::setw(14) << name << std::right;
    };
    text << s["output"].get<std::string>() << ": synshard output format " << s["format_version"]
         << ", written by synshard " << s["tool_version"].get<std::string>() << "\n";
    line("encoding") << s["encoding"].get<std::string>();
    if (s["encoding"] == "jpeg" && !s["quality"].is_null()) text << ", quality " << s["quality"];
    text << "\n";
    line("geometry") << (s["resize"].is_string() ? s["resize"].get<std::string>() : "as stored")
                     << "\n";
    line("label scheme") << s["label_scheme"].get<std::string>() << ", "
                         << count_of(s["num_classes"], "class") << "\n";
    line("seed") << s["seed"] << "\n";
    line("fingerprint") << s["input_fingerprint"].get<std::string>() << "\n";
    // nlohmann::json ignores stream widths, so numbers are turned into strings first.
    const auto row = [&](const std::string& name, const Json& values, const std::string& more) {
        text << "  " << std::left << std::setw(8) << name << std::right << std::setw(10)
             << std::to_string(values["num_samples"].get<std::uint64_t>()) << std::setw(8)
             << std::to_string(values["shards"].get<std::uint64_t>()) << std::setw(12)
             << megabytes(values["bytes"]) << more << "\n";
    };
    text << "  " << std::left << std::setw(8) << "split" << std::right << std::setw(10) << "samples"
         << std::setw(8) << "shards" << std::setw(12) << "bytes"
         << "  images per class\n";
    for (const auto& [name, split] : s["splits"].items()) {
        const Json& per_class = split["images_per_class"];
        row(name, split, "  " + per_class["min"].dump() + ".." + per_class["max"].dump());
    }
    row("total", s["total"], "");
    line("rejected") << s["rejected"]["total"];
    if (s["rejected"]["total"] != 0)
        text << " (" << reasons_text(s["rejected"]["by_reason"]) << ")";
    text << "\n";
    line("duplicates") << count_of(s["duplicates"]["groups"], "group")
                       << " of inputs with identical bytes ("
                       << count_of(s["duplicates"]["keys"], "key") << ")\n";
    line("leaks") << count_of(s["leaks"]["groups"], "group")
                  << " of val inputs identical to train inputs ("
                  << count_of(s["leaks"]["keys"], "key") << ")\n";
    text << std::fixed << std::setprecision(2);
    for (const char* stat : {"mean", "std"}) {
        line(std::string(stat) + " (RGB)");
        const char* separator = "";
        for (const auto& value : s["stats"][stat]) {
            text << separator << value.get<double>();
            separator = " ";
        }
        text << "\n";
    }
    return text.str();
}

std::string render_synset(const Json& c) {
    std::ostringstream text;
    text << c["synset"].get<std::string>() << ": " << c["words"].get<std::string>() << "\n";
    if (c["label"].is_null()) {
        text << "  not a class: an ancestor of " << count_of(c["classes"].size(), "class") << "\n";
    } else {
        text << "  label " << c["label"] << "\n";
    }
    text << "  gloss: " << c["gloss"].get<std::string>() << "\n";
    text << "  depth " << c["depth"] << ", " << count_of(c["paths"].size(), "path")
         << " from the root:\n";
    for (const auto& path : c["paths"]) {
        std::vector<std::string> words;
        for (const auto& step : path) words.push_back(step["words"].get<std::string>());
        text << "    " << path_text(words) << "\n";
    }
    if (c["label"].is_null()) {
        for (const auto& entry : c["classes"]) {
            text << "    " << entry["label"] << " " << entry["synset"].get<std::string>() << " "
                 << entry["words"].get<std::string>() << "\n";
        }
    }
    text << "  images:";
    for (const auto& [split, count] : c["counts"].items()) text << " " << split << " " << count;
    text << "\n";
    if (!c["rejected_train_inputs"].empty()) {
        text << "  rejected train inputs: " << reasons_text(c["rejected_train_inputs"]) << "\n";
    }
    return text.str();
}

// --plot's counts: each split's class sizes, and the rejects by reason and split (a val
// input's key starts with "val/", see FORMAT.md).
cv::Mat plot_of(const reader::Dataset& dataset) {
    const manifest::Manifest& manifest = dataset.manifest();
    std::vector<SplitSizes> splits;
    for (const auto& [name, split] : manifest.splits) {
        SplitSizes sizes{name, {}};
        for (const auto& entry : manifest.classes) {
            const auto found = entry.counts.find(name);
            sizes.classes.push_back(
                {first_word(entry.words), found == entry.counts.end() ? 0 : found->second});
        }
        splits.push_back(std::move(sizes));
    }
    std::map<std::string, RejectCount> by_reason;
    for (const Rejection& rejection : manifest.rejected) {
        const std::string reason(to_string(rejection.reason));
        RejectCount& count = by_reason.try_emplace(reason, RejectCount{reason}).first->second;
        ++(rejection.key.starts_with("val/") ? count.val : count.train);
    }
    std::vector<RejectCount> rejects;
    for (auto& [reason, count] : by_reason) rejects.push_back(std::move(count));
    return draw_plot(splits, std::move(rejects));
}

std::string reason_names() {
    std::string names;
    for (const Reason reason : all_reasons())
        names += (names.empty() ? "" : ", ") + std::string(to_string(reason));
    return names;
}

// --rejected [REASON]: the reason asked for, none for all.
std::optional<Reason> rejected_filter(const po::variables_map& values) {
    if (values.count("reason") == 0) return std::nullopt;
    const std::string text = values["reason"].as<std::string>();
    if (!values["rejected"].as<bool>())
        throw UsageError(text + ": a REASON is taken only after --rejected");
    const std::optional<Reason> reason = parse_reason(text);
    if (!reason) {
        throw UsageError("--rejected " + text + ": no such reason; the reasons are " +
                         reason_names());
    }
    return reason;
}

std::vector<Rejection> rejected_inputs(const reader::Dataset& dataset,
                                       std::optional<Reason> reason) {
    std::vector<Rejection> listed;
    for (const Rejection& rejection : dataset.manifest().rejected) {
        if (!reason || rejection.reason == *reason) listed.push_back(rejection);
    }
    return listed;
}

Json rejections_json(const std::vector<Rejection>& rejections) {
    Json list = Json::array();
    for (const Rejection& rejection : rejections) {
        list.push_back(Json{{"key", rejection.key},
                            {"reason", to_string(rejection.reason)},
                            {"detail", rejection.detail}});
    }
    return list;
}

std::string rejections_text(const std::vector<Rejection>& rejections) {
    std::string text;
    for (const Rejection& rejection : rejections) {
        text += tab_field(rejection.key) + "\t" + std::string(to_string(rejection.reason)) + "\t" +
                tab_field(rejection.detail) + "\n";
    }
    return text;
}

void write_json(const std::string& destination, const Json& json) {
    const std::string text = json.dump(2) + "\n";
    if (destination == "-") {
        std::cout << text << std::flush;
    } else {
        write_file_atomically(destination, text);
    }
}

}  // namespace

Command inspect_command() {
    Command command;
    command.name = "inspect";
    command.summary = "summarize a converted output (splits, classes, rejects, stats), or a class";
    command.operands = "OUT [--rejected [REASON]]";
    command.describe = [](po::options_description& options,
                          po::positional_options_description& positional) {
        add_output_operand(options, positional);
        options.add_options()  //
            ("class", po::value<std::string>()->value_name("WNID"),
             "describe one synset instead: a class, or an ancestor and the classes below it")  //
            ("json", po::value<std::string>()->value_name("FILE"),
             "also write the summary as JSON to FILE ('-': standard output, instead of the "
             "text)")  //
            ("plot", po::value<std::string>()->value_name("FILE.png"),
             "also draw images per class for each split and rejects by reason (PNG)")  //
            ("rejected", po::bool_switch(),
             "list the rejected inputs instead, one 'KEY<TAB>REASON<TAB>DETAIL' line each (tabs "
             "and newlines in them escaped), only REASON's when given")  //
            ("reason", po::value<std::string>()->value_name("REASON"),
             "with --rejected: a reason code, e.g. too-small (also given as the operand after "
             "OUT)");
        positional.add("reason", 1);
    };
    command.execute = [](const po::variables_map& values, const mpi::Comm& comm) {
        const std::string output = values["output"].as<std::string>();
        const std::string json = values.count("json") != 0 ? values["json"].as<std::string>() : "";
        const std::string plot = values.count("plot") != 0 ? values["plot"].as<std::string>() : "";
        const std::string wnid =
            values.count("class") != 0 ? values["class"].as<std::string>() : "";
        if (!plot.empty() && std::filesystem::path(plot).extension() != ".png") {
            throw UsageError("--plot " + plot + ": the picture is a .png file");
        }
        if (!wnid.empty() && !wordnet::is_wnid(wnid)) {
            throw UsageError("--class " + wnid + ": expected a WordNet id like n01440764");
        }
        const bool rejected = values["rejected"].as<bool>();
        const std::optional<Reason> reason = rejected_filter(values);
        if (rejected && (!wnid.empty() || !plot.empty()))
            throw UsageError("--rejected lists rejected inputs: it takes no --class or --plot");
        return run_on_root(comm, "inspect", [&] {
            const reader::Dataset dataset(output);
            if (rejected) {
                const auto listed = rejected_inputs(dataset, reason);
                if (json != "-") std::cout << rejections_text(listed) << std::flush;
                if (!json.empty()) write_json(json, rejections_json(listed));
                return ExitCode::success;
            }
            const Json summary = wnid.empty() ? summarize(dataset) : describe_synset(dataset, wnid);
            if (json != "-") {
                std::cout << (wnid.empty() ? render_summary(summary) : render_synset(summary))
                          << std::flush;
            }
            if (!json.empty()) write_json(json, summary);
            if (!plot.empty()) {
                reader::write_png(plot, plot_of(dataset));
                if (json != "-") log::info("inspect: plot written to " + plot);
            }
            return ExitCode::success;
        });
    };
    return command;
}

}  // namespace synshard::cli
