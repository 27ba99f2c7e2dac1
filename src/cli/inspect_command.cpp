#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <map>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "synshard/cli/command.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/cli/root_only.hpp"
#include "synshard/reader/dataset.hpp"
#include "synshard/reader/picture.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/log.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string first_word(const std::string& words) {
    return words.substr(0, words.find(','));
}

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
    line("label scheme") << s["label_scheme"].get<std::string>() << ", " << s["num_classes"]
                         << " classes\n";
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
    line("duplicates") << s["duplicates"]["groups"] << " group(s) of inputs with identical bytes ("
                       << s["duplicates"]["keys"] << " keys)\n";
    line("leaks") << s["leaks"]["groups"] << " group(s) of val inputs identical to train inputs ("
                  << s["leaks"]["keys"] << " keys)\n";
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
        text << "  not a class: an ancestor of " << c["classes"].size() << " classes\n";
    } else {
        text << "  label " << c["label"] << "\n";
    }
    text << "  gloss: " << c["gloss"].get<std::string>() << "\n";
    text << "  depth " << c["depth"] << ", " << c["paths"].size() << " path(s) from the root:\n";
    for (const auto& path : c["paths"]) {
        text << "   ";
        for (std::size_t i = 0; i < path.size(); ++i) {
            text << (i == 0 ? " " : " > ") << first_word(path[i]["words"].get<std::string>());
        }
        text << "\n";
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

// --plot: one panel per split with a bar per class, sorted by count (most first), then a
// panel with a bar per reject reason. White background; every split's bars and the
// rejects have their own colour.
constexpr int kPlotWidth = 900;
constexpr int kMarginLeft = 60;
constexpr int kMarginRight = 20;
constexpr int kTitleHeight = 34;
constexpr int kBarAreaHeight = 180;
constexpr int kAxisHeight = 22;
constexpr int kReasonRowHeight = 22;
constexpr int kReasonLabelWidth = 180;
const cv::Scalar kWhite{255, 255, 255};
const cv::Scalar kInk{40, 40, 40};
const cv::Scalar kRejectColor{60, 60, 200};  // BGR

cv::Scalar split_color(std::size_t split) {
    static const cv::Scalar colors[] = {{180, 110, 30}, {40, 150, 240}, {90, 160, 60}};
    return colors[split % 3];
}

void put_text(cv::Mat& image, const std::string& text, cv::Point at, double scale = 0.5) {
    cv::putText(image, text, at, cv::FONT_HERSHEY_SIMPLEX, scale, kInk, 1, cv::LINE_AA);
}

cv::Mat class_panel(const std::string& split, std::vector<std::uint64_t> counts,
                    const cv::Scalar& color) {
    cv::Mat panel(kTitleHeight + kBarAreaHeight + kAxisHeight, kPlotWidth, CV_8UC3, kWhite);
    std::sort(counts.rbegin(), counts.rend());
    std::uint64_t total = 0;
    for (const auto count : counts) total += count;
    const std::uint64_t most = counts.empty() ? 0 : counts.front();
    put_text(panel,
             split + ": " + std::to_string(total) + " images in " + std::to_string(counts.size()) +
                 " classes, sorted (max " + std::to_string(most) + ", min " +
                 std::to_string(counts.empty() ? 0 : counts.back()) + ")",
             {kMarginLeft, 22});
    const int width = kPlotWidth - kMarginLeft - kMarginRight;
    const int bottom = kTitleHeight + kBarAreaHeight;
    cv::line(panel, {kMarginLeft - 1, kTitleHeight}, {kMarginLeft - 1, bottom}, kInk);
    cv::line(panel, {kMarginLeft - 1, bottom}, {kPlotWidth - kMarginRight, bottom}, kInk);
    put_text(panel, std::to_string(most), {4, kTitleHeight + 12}, 0.4);
    put_text(panel, "0", {kMarginLeft - 16, bottom}, 0.4);
    put_text(panel, "classes, most images first", {kMarginLeft, bottom + 16}, 0.4);
    const auto n = static_cast<std::int64_t>(counts.size());
    for (std::int64_t i = 0; i < n; ++i) {
        const std::uint64_t count = counts[static_cast<std::size_t>(i)];
        if (most == 0 || count == 0) continue;
        // With more classes than pixels several share a column; sorted, the tallest shows.
        int left = kMarginLeft + static_cast<int>(i * width / n);
        int right = kMarginLeft + static_cast<int>((i + 1) * width / n) - 1;
        if (right - left >= 2) --right;  // a gap between bars wide enough to have one
        right = std::max(left, right);
        const int height = static_cast<int>(
            std::lround(static_cast<double>(count) * kBarAreaHeight / static_cast<double>(most)));
        if (height == 0) continue;
        cv::rectangle(panel, cv::Point(left, bottom - height), cv::Point(right, bottom - 1), color,
                      cv::FILLED);
    }
    return panel;
}

cv::Mat rejects_panel(const Json& by_reason) {
    std::vector<std::pair<std::string, std::uint64_t>> reasons;
    for (const auto& [reason, count] : by_reason.items()) reasons.emplace_back(reason, count);
    std::stable_sort(reasons.begin(), reasons.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    const int rows = std::max<int>(1, static_cast<int>(reasons.size()));
    cv::Mat panel(kTitleHeight + rows * kReasonRowHeight + 10, kPlotWidth, CV_8UC3, kWhite);
    std::uint64_t total = 0;
    for (const auto& reason : reasons) total += reason.second;
    put_text(panel, "rejected inputs by reason: " + std::to_string(total), {kMarginLeft, 22});
    if (reasons.empty()) {
        put_text(panel, "none", {kMarginLeft, kTitleHeight + 16});
        return panel;
    }
    const int width = kPlotWidth - kReasonLabelWidth - kMarginRight - 50;
    for (std::size_t i = 0; i < reasons.size(); ++i) {
        const int top = kTitleHeight + static_cast<int>(i) * kReasonRowHeight;
        put_text(panel, reasons[i].first, {10, top + 15});
        const int length = std::max(
            1, static_cast<int>(std::lround(static_cast<double>(reasons[i].second) * width /
                                            static_cast<double>(reasons.front().second))));
        cv::rectangle(panel, cv::Point(kReasonLabelWidth, top + 3),
                      cv::Point(kReasonLabelWidth + length - 1, top + kReasonRowHeight - 4),
                      kRejectColor, cv::FILLED);
        put_text(panel, std::to_string(reasons[i].second),
                 {kReasonLabelWidth + length + 6, top + 15});
    }
    return panel;
}

cv::Mat draw_plot(const reader::Dataset& dataset, const Json& summary) {
    std::vector<cv::Mat> panels;
    std::size_t index = 0;
    for (const auto& [name, split] : dataset.manifest().splits) {
        panels.push_back(
            class_panel(name, class_counts(dataset.manifest(), name), split_color(index++)));
    }
    panels.push_back(rejects_panel(summary["rejected"]["by_reason"]));
    cv::Mat plot;
    cv::vconcat(panels, plot);
    return plot;
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
    command.operands = "OUT";
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
             "also draw images per class for each split and rejects by reason (PNG)");
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
        return run_on_root(comm, "inspect", [&] {
            const reader::Dataset dataset(output);
            const Json summary = wnid.empty() ? summarize(dataset) : describe_synset(dataset, wnid);
            if (json != "-") {
                std::cout << (wnid.empty() ? render_summary(summary) : render_synset(summary))
                          << std::flush;
            }
            if (!json.empty()) write_json(json, summary);
            if (!plot.empty()) {
                reader::write_png(plot,
                                  draw_plot(dataset, wnid.empty() ? summary : summarize(dataset)));
                if (json != "-") log::info("inspect: plot written to " + plot);
            }
            return ExitCode::success;
        });
    };
    return command;
}

}  // namespace synshard::cli
