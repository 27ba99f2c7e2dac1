#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "synshard/bench/bench.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::bench {
namespace {

std::string format_bytes(double bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f KB", bytes / 1000);
    return text;
}

Json scale_json(const ScaleRun& run) {
    return {{"images", run.images},
            {"ranks", run.ranks},
            {"plan_seconds", run.plan_seconds},
            {"plan_peak_rss_bytes", run.plan_peak_rss_bytes},
            {"convert_phase_seconds", run.phase_seconds},
            {"root_peak_rss_bytes", run.root_peak_rss_bytes},
            {"manifest_bytes", run.manifest_bytes}};
}

std::string format_corpus(const CorpusSummary& corpus, const Measurements& measurements) {
    std::ostringstream text;
    text << "corpus: " << count_of(corpus.files, "image") << ", mean "
         << format_bytes(static_cast<double>(corpus.bytes) /
                         static_cast<double>(std::max<std::uint64_t>(corpus.files, 1)))
         << ", largest " << pixel_count(corpus.max_pixels) << ", " << corpus.large_images
         << " over 1 Mpixel (" << corpus.path.string()
         << (corpus.reused ? ", reused)" : ", generated)") << "\n";
    for (const auto& run : measurements.runs) {
        const double rate = static_cast<double>(run.images) / run.wall_seconds;
        char line[200];
        std::snprintf(line, sizeof line,
                      "converter@%d: %llu images in %.2f s wall (mpirun), %.1f images/s, %d%% of "
                      "its inputs in the page cache at its start\n",
                      run.ranks, static_cast<unsigned long long>(run.images), run.wall_seconds,
                      rate, static_cast<int>(std::floor(run.cached_share * 100)));
        text << line;
    }
    return text.str();
}

Json measurements_json(const CorpusSummary& corpus, const Measurements& measurements) {
    Json json = Json::object();
    json["corpus"] = {
        {"path", corpus.path.string()},
        {"reused", corpus.reused},
        {"synth_seconds", corpus.synth_seconds},
        {"images", corpus.files},
        {"bytes", corpus.bytes},
        {"mean_file_bytes", static_cast<double>(corpus.bytes) / static_cast<double>(corpus.files)},
        {"max_pixels", corpus.max_pixels},
        {"images_over_1_mpixel", corpus.large_images}};
    Json runs = Json::array();
    for (const auto& run : measurements.runs) {
        runs.push_back({{"ranks", run.ranks},
                        {"wall_seconds", run.wall_seconds},
                        {"corpus_cached_share", run.cached_share},
                        {"images", run.images},
                        {"peak_rss_bytes", run.peak_rss_bytes},
                        {"rank_seconds", run.rank_seconds},
                        {"phase_seconds", run.phase_seconds},
                        {"phase_shares", phase_shares(run)},
                        {"decode_seconds", run.decode_seconds},
                        {"source_pixels", run.source_pixels},
                        {"output_bytes", run.output_bytes},
                        {"payload_bytes", run.payload_bytes}});
    }
    json["runs"] = runs;
    const auto loop = [](const LoopRun& run) {
        return Json{{"images", run.images},
                    {"seconds", run.seconds},
                    {"decode_seconds", run.decode_seconds},
                    {"source_pixels", run.source_pixels}};
    };
    json["floor"] = loop(measurements.floor);
    json["naive"] = loop(measurements.naive);
    json["digests"] = loop(measurements.digests);
    return json;
}

}  // namespace

std::string format_report(const BenchReport& report) {
    std::ostringstream text;
    if (report.corpus) {
        if (report.slope_corpus)
            text << format_corpus(*report.slope_corpus, report.slope_measurements);
        text << format_corpus(*report.corpus, report.measurements);
        text << "shards identical across rank counts: " << (report.identical_shards ? "yes" : "NO")
             << "\n\n";
        text << format_table(report.figures) << "\n";
        text << "time share per phase (summed over ranks' seconds) and per image:\n"
             << format_phase_table(report.measurements.runs);
        if (report.slope_corpus) {
            text << "\nslopes between " << report.slope_corpus->files << " and "
                 << report.corpus->files << " images (the difference of the times over the "
                 << "difference of the images: start-up cancels out):\n"
                 << format_table(report.slope_figures);
        }
    }
    if (!report.archive_figures.empty()) {
        text << "\nthe official archives (converter@1, the fastest of " << kArchiveRepetitions
             << " alternated runs a layout; shards identical to the folders': "
             << (report.archive_identical_shards ? "yes" : "NO") << "):\n"
             << format_table(report.archive_figures);
    }
    if (!report.scale.empty()) {
        if (report.corpus) text << "\n";
        text << "scale (tiny images, plan as one process, convert at " << report.scale.front().ranks
             << " ranks; \"beyond start-up\" subtracts the times of a "
             << report.scale_startup->images << "-image corpus):\n"
             << format_table(report.scale_figures);
    }
    return text.str();
}

Json to_json(const BenchReport& report) {
    Json json = Json::object();
    if (report.corpus) {
        json = measurements_json(*report.corpus, report.measurements);
        json["identical_shards"] = report.identical_shards;
        json["figures"] = to_json(report.figures);
        if (report.slope_corpus) {
            json["slope"] = measurements_json(*report.slope_corpus, report.slope_measurements);
            json["slope"]["figures"] = to_json(report.slope_figures);
        }
    }
    if (!report.archive_runs.empty()) {
        Json runs = Json::array();
        for (const auto& run : report.archive_runs) {
            runs.push_back({{"images", run.images},
                            {"folders_seconds", run.folders_seconds},
                            {"tar_seconds", run.tar_seconds},
                            {"gzip_seconds", run.gzip_seconds},
                            {"gzip_index_seconds", run.index_seconds},
                            {"compressed_bytes", run.compressed_bytes}});
        }
        json["archives"] = {{"runs", runs},
                            {"outer_walk",
                             {{"members", report.outer_walk.members},
                              {"warm_seconds", report.outer_walk.warm_seconds},
                              {"cold_seconds", report.outer_walk.cold_seconds}}},
                            {"identical_shards", report.archive_identical_shards},
                            {"figures", to_json(report.archive_figures)}};
    }
    if (!report.scale.empty()) {
        Json runs = Json::array();
        for (const auto& run : report.scale) runs.push_back(scale_json(run));
        json["scale"] = {{"startup", scale_json(*report.scale_startup)},
                         {"runs", runs},
                         {"figures", to_json(report.scale_figures)}};
    }
    return json;
}

}  // namespace synshard::bench
