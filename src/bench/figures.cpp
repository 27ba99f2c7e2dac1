#include "synshard/bench/figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <sstream>
#include <string_view>

#include "synshard/util/error.hpp"

namespace synshard::bench {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
// A scale phase under this share of the convert run's total is not judged.
constexpr double kNegligibleShare = 0.01;

const Json& at(const Json& json, const std::string& key, const std::string& context) {
    if (!json.contains(key)) throw Error("convert --stats: " + context + " has no '" + key + "'");
    return json.at(key);
}

double phase(const Json& phases, const char* name) {
    return phases.contains(name) ? phases.at(name).get<double>() : 0.0;
}

Figure at_least(std::string key, std::string name, double value, std::string unit, double minimum,
                int digits) {
    char target[32];
    std::snprintf(target, sizeof target, ">= %.*f", digits, minimum);
    return {std::move(key),  std::move(name), value,
            std::move(unit), target,          value >= minimum ? Verdict::pass : Verdict::miss};
}

Figure at_most(std::string key, std::string name, double value, std::string unit, double maximum,
               int digits) {
    char target[32];
    std::snprintf(target, sizeof target, "<= %.*f", digits, maximum);
    return {std::move(key),  std::move(name), value,
            std::move(unit), target,          value <= maximum ? Verdict::pass : Verdict::miss};
}

Figure plain(std::string key, std::string name, double value, std::string unit) {
    return {std::move(key), std::move(name), value, std::move(unit), "", Verdict::none};
}

// Within `tolerance` of 1, both ways.
Figure flat(std::string key, std::string name, double ratio, double tolerance) {
    char target[32];
    std::snprintf(target, sizeof target, "%.2f..%.2f", 1 - tolerance, 1 + tolerance);
    return {std::move(key), std::move(name),
            ratio,          "x",
            target,         std::abs(ratio - 1) <= tolerance ? Verdict::pass : Verdict::miss};
}

double rate(std::uint64_t images, double seconds) {
    return seconds > 0 ? static_cast<double>(images) / seconds : 0.0;
}

double mpixels_per_second(std::uint64_t pixels, double seconds) {
    return seconds > 0 ? static_cast<double>(pixels) / seconds / 1e6 : 0.0;
}

double ratio(double dividend, double divisor) {
    return divisor > 0 ? dividend / divisor : 0.0;
}

// ms per image between two runs of one path; 0 when the larger run has no more images.
double slope_ms(std::uint64_t small_images, double small_seconds, std::uint64_t large_images,
                double large_seconds) {
    if (large_images <= small_images) return 0.0;
    return (large_seconds - small_seconds) * 1e3 / static_cast<double>(large_images - small_images);
}

// The seconds a run's ranks spent in the per-image pipeline's stages.
double pipeline_seconds(const ConverterRun& run) {
    double seconds = 0;
    for (const char* stage : {"decode", "resize", "stats", "encode"}) {
        const auto found = run.phase_seconds.find(stage);
        if (found != run.phase_seconds.end()) seconds += found->second;
    }
    return seconds;
}

std::uint64_t largest_rank_rss(const ConverterRun& run) {
    return run.peak_rss_bytes.empty()
               ? 0
               : *std::max_element(run.peak_rss_bytes.begin(), run.peak_rss_bytes.end());
}

}  // namespace

ConverterRun converter_run_from_stats(const Json& stats) {
    ConverterRun run;
    run.ranks = at(stats, "ranks", "the file").get<int>();
    for (const auto& rank : at(stats, "per_rank", "the file")) {
        const std::string context = "rank " + std::to_string(at(rank, "rank", "a rank").get<int>());
        const Json& phases = at(rank, "phases", context);
        const Json& stages = at(rank, "stages", context);
        const double decode = at(stages, "decode", context).get<double>();
        const double resize = at(stages, "resize", context).get<double>();
        const double encode = at(stages, "encode", context).get<double>();
        const double stats = at(stages, "stats", context).get<double>();
        const double exchange = at(rank, "write_exchange_seconds", context).get<double>();
        const double seconds = at(rank, "seconds", context).get<double>();
        std::map<std::string, double> mine{
            {"scan", phase(phases, "plan")},
            {"decode", decode},
            {"resize", resize},
            {"encode", encode},
            {"stats", stats},
            {"read+hash", phase(phases, "process") - decode - resize - encode - stats},
            {"exchange", phase(phases, "dedup") + phase(phases, "assign") + exchange},
            {"write", phase(phases, "write") - exchange},
            {"manifest", phase(phases, "manifest")},
        };
        double listed = 0;
        for (const auto& [name, value] : mine) listed += value;
        mine["other"] = std::max(0.0, seconds - listed);
        for (const auto& [name, value] : mine) run.phase_seconds[name] += value;
        run.rank_seconds += seconds;
        run.decode_seconds += decode;
        run.source_pixels += at(stages, "source_pixels", context).get<std::uint64_t>();
        run.peak_rss_bytes.push_back(at(rank, "peak_rss_bytes", context).get<std::uint64_t>());
    }
    if (static_cast<int>(run.peak_rss_bytes.size()) != run.ranks) {
        throw Error("convert --stats: " + std::to_string(run.peak_rss_bytes.size()) +
                    " rank records for " + std::to_string(run.ranks) + " ranks");
    }
    return run;
}

std::vector<Figure> compare(const Measurements& measurements, const Targets& targets) {
    std::vector<Figure> figures;
    const double floor_rate = rate(measurements.floor.images, measurements.floor.seconds);
    const double naive_rate = rate(measurements.naive.images, measurements.naive.seconds);
    figures.push_back(
        plain("floor_per_core", "floor (Pipeline::process loop)", floor_rate, "images/s/core"));
    figures.push_back(
        plain("naive_per_core", "naive (imdecode+resize+imencode)", naive_rate, "images/s/core"));
    const ConverterRun* single = nullptr;
    for (const auto& run : measurements.runs) {
        if (run.ranks == 1) single = &run;
    }
    for (const auto& run : measurements.runs) {
        const std::string at_ranks = "converter@" + std::to_string(run.ranks);
        const std::string key = "converter_" + std::to_string(run.ranks);
        const double total_rate = rate(run.images, run.wall_seconds);
        const double per_core = total_rate / run.ranks;
        figures.push_back(plain(key + "_per_core", at_ranks, per_core, "images/s/core"));
        figures.push_back(at_least(key + "_vs_floor", at_ranks + " / floor (per core)",
                                   per_core / floor_rate, "x", targets.floor_ratio, 2));
        figures.push_back(at_least(key + "_vs_naive", at_ranks + " / naive (per core)",
                                   per_core / naive_rate, "x", targets.naive_ratio, 2));
        if (single != nullptr && run.ranks > 1) {
            const double single_rate = rate(single->images, single->wall_seconds);
            figures.push_back(at_least("scaling_1_to_" + std::to_string(run.ranks),
                                       "scaling 1->" + std::to_string(run.ranks) + " ranks",
                                       total_rate / (run.ranks * single_rate), "x", targets.scaling,
                                       2));
        }
        figures.push_back(at_most(key + "_peak_rss", at_ranks + " peak RSS of a rank",
                                  static_cast<double>(largest_rank_rss(run)) / kMiB, "MiB",
                                  static_cast<double>(targets.peak_rss_bytes) / kMiB, 0));
        const double overhead =
            run.payload_bytes == 0
                ? 0.0
                : static_cast<double>(run.output_bytes) / static_cast<double>(run.payload_bytes) -
                      1;
        figures.push_back(at_most(key + "_output_overhead", at_ranks + " output / payload - 1",
                                  overhead * 100, "%", targets.output_overhead * 100, 1));
        figures.push_back(plain(key + "_decode_mpixels", at_ranks + " decode",
                                mpixels_per_second(run.source_pixels, run.decode_seconds),
                                "Mpixel/s"));
    }
    figures.push_back(plain(
        "floor_decode_mpixels", "floor decode",
        mpixels_per_second(measurements.floor.source_pixels, measurements.floor.decode_seconds),
        "Mpixel/s"));
    return figures;
}

std::vector<Figure> slope_figures(const Measurements& small, const Measurements& large,
                                  const Targets& targets) {
    const auto loop_slope = [](const LoopRun& small_loop, const LoopRun& large_loop) {
        return slope_ms(small_loop.images, small_loop.seconds, large_loop.images,
                        large_loop.seconds);
    };
    const double floor = loop_slope(small.floor, large.floor);
    const double naive = loop_slope(small.naive, large.naive);
    std::vector<Figure> figures{
        plain("slope_floor", "floor slope", floor, "ms/image"),
        plain("slope_naive", "naive slope", naive, "ms/image"),
        at_least("slope_floor_vs_naive", "floor / naive by slope (per core)", ratio(naive, floor),
                 "x", targets.slope_naive_ratio, 2)};
    const auto small_run_at = [&](int ranks) {
        return std::find_if(small.runs.begin(), small.runs.end(),
                            [&](const ConverterRun& run) { return run.ranks == ranks; });
    };
    // `seconds_of`: a ConverterRun member or function giving the run's seconds.
    const auto run_slope = [](const ConverterRun& small_run, const ConverterRun& large_run,
                              auto seconds_of) {
        return slope_ms(small_run.images, std::invoke(seconds_of, small_run), large_run.images,
                        std::invoke(seconds_of, large_run));
    };
    std::optional<double> single;
    for (const auto& large_run : large.runs) {
        const auto small_run = small_run_at(large_run.ranks);
        if (large_run.ranks == 1 && small_run != small.runs.end())
            single = run_slope(*small_run, large_run, &ConverterRun::wall_seconds);
    }
    for (const auto& large_run : large.runs) {
        const auto small_run = small_run_at(large_run.ranks);
        if (small_run == small.runs.end()) continue;
        const std::string at_ranks = "converter@" + std::to_string(large_run.ranks);
        const std::string key = "slope_converter_" + std::to_string(large_run.ranks);
        const double slope = run_slope(*small_run, large_run, &ConverterRun::wall_seconds);
        figures.push_back(plain(key, at_ranks + " slope (wall)", slope, "ms/image"));
        if (large_run.ranks == 1) {
            figures.push_back(at_most("slope_overhead", "overhead: converter@1 - floor slope",
                                      slope - floor, "ms/image", targets.slope_overhead_ms, 2));
            // The overhead in parts: the first is the converter's own, timed in one run;
            // the second compares loops timed apart, so the machine's drift between them
            // lands there.
            const double rank = run_slope(*small_run, large_run, &ConverterRun::rank_seconds);
            const double stages = run_slope(*small_run, large_run, pipeline_seconds);
            figures.push_back(plain("slope_overhead_outside_pipeline",
                                    "  of it, converter@1 outside its pipeline", rank - stages,
                                    "ms/image"));
            figures.push_back(plain("slope_overhead_pipeline_vs_floor",
                                    "  of it, converter@1's pipeline stages - floor",
                                    stages - floor, "ms/image"));
            figures.push_back(plain("slope_overhead_around_rank",
                                    "  of it, mpirun and the process around the rank", slope - rank,
                                    "ms/image"));
            figures.push_back(plain("slope_digests",
                                    "  within it: each source's and stored image's SHA-256, alone",
                                    loop_slope(small.digests, large.digests), "ms/image"));
            figures.push_back(at_least(key + "_vs_floor", "floor / converter@1 by slope",
                                       ratio(floor, slope), "x", targets.slope_floor_ratio, 2));
        } else if (single) {
            figures.push_back(
                at_least("slope_scaling_1_to_" + std::to_string(large_run.ranks),
                         "scaling 1->" + std::to_string(large_run.ranks) + " ranks by slope",
                         ratio(*single, large_run.ranks * slope), "x", targets.scaling, 2));
        }
        const auto peak = std::max(largest_rank_rss(*small_run), largest_rank_rss(large_run));
        figures.push_back(at_most(key + "_peak_rss",
                                  at_ranks + " peak RSS of a rank (both corpora)",
                                  static_cast<double>(peak) / kMiB, "MiB",
                                  static_cast<double>(targets.peak_rss_bytes) / kMiB, 0));
    }
    return figures;
}

std::map<std::string, double> phase_shares(const ConverterRun& run) {
    std::map<std::string, double> shares;
    for (const auto& name : kPhases) {
        const auto found = run.phase_seconds.find(name);
        const double seconds = found == run.phase_seconds.end() ? 0.0 : found->second;
        shares[name] = run.rank_seconds > 0 ? seconds / run.rank_seconds : 0.0;
    }
    return shares;
}

std::vector<Figure> scale_figures(const std::vector<ScaleRun>& unsorted,
                                  const std::optional<ScaleRun>& startup, const Targets& targets) {
    auto runs = unsorted;
    std::sort(runs.begin(), runs.end(),
              [](const ScaleRun& a, const ScaleRun& b) { return a.images < b.images; });
    const auto per_image = [](std::uint64_t images, double seconds) {
        return images == 0 ? 0.0 : seconds * 1e6 / static_cast<double>(images);
    };
    // What is compared: plan, then the convert root's phases in their usual order.
    std::vector<std::string> phases{"plan",  "process",  "dedup", "assign",
                                    "write", "manifest", "total"};
    const auto seconds_of = [](const ScaleRun& run, const std::string& phase) {
        const auto found = run.phase_seconds.find(phase);
        return found == run.phase_seconds.end() ? 0.0 : found->second;
    };
    const std::uint64_t startup_images = startup ? startup->images : 0;
    const auto beyond_startup = [&](const ScaleRun& run, double seconds, double startup_seconds) {
        return run.images > startup_images
                   ? per_image(run.images - startup_images, seconds - startup_seconds)
                   : 0.0;
    };
    const auto plan_beyond = [&](const ScaleRun& run) {
        return beyond_startup(run, run.plan_seconds, startup ? startup->plan_seconds : 0.0);
    };
    const auto phase_beyond = [&](const ScaleRun& run, const std::string& phase) {
        return beyond_startup(run, seconds_of(run, phase),
                              startup ? seconds_of(*startup, phase) : 0.0);
    };

    std::vector<Figure> figures;
    if (startup) {
        const std::string at = "start-up (" + std::to_string(startup->images) + " images)";
        figures.push_back(plain("scale_startup_plan_command", at + ": synshard plan",
                                startup->plan_seconds, "s"));
        for (const auto& phase : phases) {
            figures.push_back(plain("scale_startup_convert_" + phase,
                                    at + ": convert " + phase + " (root)",
                                    seconds_of(*startup, phase), "s"));
        }
    }
    for (const auto& run : runs) {
        const std::string at = std::to_string(run.images);
        figures.push_back(plain("scale_" + at + "_plan_command", at + ": synshard plan",
                                per_image(run.images, run.plan_seconds), "us/image"));
        figures.push_back(plain("scale_" + at + "_plan_command_beyond_startup",
                                at + ": synshard plan beyond start-up", plan_beyond(run),
                                "us/image"));
        figures.push_back(plain("scale_" + at + "_plan_rss", at + ": synshard plan peak RSS",
                                static_cast<double>(run.plan_peak_rss_bytes) / kMiB, "MiB"));
        for (const auto& phase : phases) {
            figures.push_back(plain("scale_" + at + "_convert_" + phase,
                                    at + ": convert " + phase + " (root)",
                                    per_image(run.images, seconds_of(run, phase)), "us/image"));
            figures.push_back(plain("scale_" + at + "_convert_" + phase + "_beyond_startup",
                                    at + ": convert " + phase + " beyond start-up",
                                    phase_beyond(run, phase), "us/image"));
        }
        figures.push_back(plain("scale_" + at + "_root_rss", at + ": convert root peak RSS",
                                static_cast<double>(run.root_peak_rss_bytes) / kMiB, "MiB"));
        figures.push_back(plain("scale_" + at + "_manifest_bytes",
                                at + ": manifest.json + index.h5 per image",
                                static_cast<double>(run.manifest_bytes) /
                                    static_cast<double>(std::max<std::uint64_t>(run.images, 1)),
                                "bytes/image"));
    }
    if (runs.size() < 2) return figures;
    const ScaleRun& small = runs.front();
    const ScaleRun& large = runs.back();
    const std::string between = std::to_string(large.images) + "/" + std::to_string(small.images);
    const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
    figures.push_back(flat("scale_ratio_plan_command",
                           between + ": synshard plan per image beyond start-up",
                           ratio(plan_beyond(large), plan_beyond(small)), targets.scale_flatness));
    const double large_total = seconds_of(large, "total");
    for (const auto& phase : phases) {
        if (seconds_of(small, phase) <= 0) continue;  // nothing to compare with
        Figure figure = flat("scale_ratio_convert_" + phase,
                             between + ": convert " + phase + " per image beyond start-up",
                             ratio(phase_beyond(large, phase), phase_beyond(small, phase)),
                             targets.scale_flatness);
        // A phase this small is a few milliseconds of collectives and cache effects: its
        // ratio is shown, not judged.
        if (seconds_of(large, phase) < kNegligibleShare * large_total) {
            figure.target = "(< 1% of the run)";
            figure.verdict = Verdict::none;
        }
        figures.push_back(std::move(figure));
    }
    figures.push_back(at_most("scale_ratio_plan_rss", between + ": synshard plan peak RSS",
                              ratio(static_cast<double>(large.plan_peak_rss_bytes),
                                    static_cast<double>(small.plan_peak_rss_bytes)),
                              "x", 1 + targets.scale_flatness, 2));
    figures.push_back(at_most("scale_ratio_root_rss", between + ": convert root peak RSS",
                              ratio(static_cast<double>(large.root_peak_rss_bytes),
                                    static_cast<double>(small.root_peak_rss_bytes)),
                              "x", 1 + targets.scale_flatness, 2));
    // What the root's growth costs per extra image, next to what the manifest must hold.
    const double extra_images = static_cast<double>(large.images - small.images);
    figures.push_back(plain("scale_root_rss_growth_per_image",
                            between + ": root RSS growth per extra image",
                            (static_cast<double>(large.root_peak_rss_bytes) -
                             static_cast<double>(small.root_peak_rss_bytes)) /
                                std::max(extra_images, 1.0),
                            "bytes/image"));
    return figures;
}

std::vector<Figure> archive_figures(const std::vector<ArchiveRun>& runs, const OuterWalk& walk,
                                    const Targets& targets) {
    if (runs.empty()) return {};
    const ArchiveRun& first = runs.front();
    const ArchiveRun& last = runs.back();
    const auto per_image = [&](double ArchiveRun::*seconds) {
        if (runs.size() > 1)
            return slope_ms(first.images, first.*seconds, last.images, last.*seconds);
        return ratio(last.*seconds * 1e3, static_cast<double>(last.images));
    };
    const std::string method = runs.size() > 1 ? "slope" : "per image";
    const double folders = per_image(&ArchiveRun::folders_seconds);
    const double tar = per_image(&ArchiveRun::tar_seconds);
    const double gzip = per_image(&ArchiveRun::gzip_seconds);
    return {
        plain("archive_folders", "converter@1 from folders (" + method + ")", folders, "ms/image"),
        plain("archive_tar", "converter@1 from the tar of tars (" + method + ")", tar, "ms/image"),
        plain("archive_gzip", "converter@1 from the .tar.gz (" + method + ")", gzip, "ms/image"),
        at_least("archive_tar_vs_folders", "tar of tars / folders (rates)", ratio(folders, tar),
                 "x", targets.archive_ratio, 2),
        plain("archive_gzip_vs_folders", ".tar.gz / folders (rates)", ratio(folders, gzip), "x"),
        plain("archive_gzip_index", "gzip index pass (compressed bytes)",
              ratio(static_cast<double>(last.compressed_bytes) / 1e6, last.index_seconds), "MB/s"),
        plain("archive_outer_walk_warm",
              "outer tar header walk, " + std::to_string(walk.members) + " members, warm",
              walk.warm_seconds * 1e3, "ms"),
        at_most("archive_outer_walk_cold",
                "outer tar header walk, " + std::to_string(walk.members) + " members, cold",
                walk.cold_seconds * 1e3, "ms", targets.outer_walk_cold_ms, 0)};
}

std::string to_string(Verdict verdict) {
    switch (verdict) {
        case Verdict::pass:
            return "PASS";
        case Verdict::miss:
            return "MISS";
        case Verdict::none:
            break;
    }
    return "";
}

std::string format_table(const std::vector<Figure>& figures) {
    std::size_t width = 6;
    for (const auto& figure : figures) width = std::max(width, figure.name.size());
    std::ostringstream text;
    char line[256];
    std::snprintf(line, sizeof line, "%-*s  %22s  target\n", static_cast<int>(width), "figure",
                  "value");
    text << line;
    for (const auto& figure : figures) {
        char value[64];
        const int digits = std::abs(figure.value) >= 100 ? 0 : std::abs(figure.value) >= 10 ? 1 : 2;
        std::snprintf(value, sizeof value, "%.*f %s", digits, figure.value, figure.unit.c_str());
        std::snprintf(line, sizeof line, "%-*s  %22s  %-12s  %s", static_cast<int>(width),
                      figure.name.c_str(), value, figure.target.c_str(),
                      to_string(figure.verdict).c_str());
        std::string_view row(line);
        text << row.substr(0, row.find_last_not_of(' ') + 1) << "\n";
    }
    return text.str();
}

std::string format_phase_table(const std::vector<ConverterRun>& runs) {
    std::ostringstream text;
    char cell[64];
    std::snprintf(cell, sizeof cell, "%-10s", "phase");
    text << cell;
    for (const auto& run : runs) {
        std::snprintf(cell, sizeof cell, "  %18s",
                      ("converter@" + std::to_string(run.ranks)).c_str());
        text << cell;
    }
    text << "\n";
    std::vector<std::map<std::string, double>> shares;
    shares.reserve(runs.size());
    for (const auto& run : runs) shares.push_back(phase_shares(run));
    for (const auto& name : kPhases) {
        std::snprintf(cell, sizeof cell, "%-10s", name.c_str());
        text << cell;
        for (std::size_t i = 0; i < runs.size(); ++i) {
            const auto found = runs[i].phase_seconds.find(name);
            const double seconds = found == runs[i].phase_seconds.end() ? 0.0 : found->second;
            const double per_image =
                runs[i].images == 0 ? 0.0 : seconds * 1e3 / static_cast<double>(runs[i].images);
            std::snprintf(cell, sizeof cell, "  %5.1f%% %6.3f ms/im", shares[i][name] * 100,
                          per_image);
            text << cell;
        }
        text << "\n";
    }
    return text.str();
}

Json to_json(const std::vector<Figure>& figures) {
    Json json = Json::object();
    for (const auto& figure : figures) {
        json[figure.key] = {{"name", figure.name},
                            {"value", figure.value},
                            {"unit", figure.unit},
                            {"target", figure.target},
                            {"verdict", to_string(figure.verdict)}};
    }
    return json;
}

}  // namespace synshard::bench
