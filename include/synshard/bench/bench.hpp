#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "synshard/bench/figures.hpp"

namespace synshard::bench {

// The sizes of a --scale corpus: a few images per class at least, and at most what the
// default tiny_classes (100) hold within synth's per-class cap.
inline constexpr std::uint64_t kMinScaleImages = 100;
inline constexpr std::uint64_t kMaxScaleImages = 100'000'000;
// Alternated rounds of converter@1 from folders, the tar of tars and the .tar.gz; each
// layout's fastest round is kept.
inline constexpr int kArchiveRepetitions = 2;

// What `synshard bench` is asked to measure.
struct BenchOptions {
    std::filesystem::path work_dir;  // corpora, outputs and stats files
    std::filesystem::path program;   // the synshard executable mpirun starts
    // The comparison on an ImageNet-like corpus (0 images: skip it).
    std::uint64_t images = 3000;  // requested; synth's classes vary 0.5x..1.5x around it
    // The same comparison on a smaller corpus of the same parameters, for the slopes
    // (0: no slopes).
    std::uint64_t slope_images = 1000;
    int classes = 20;
    std::vector<int> ranks{1, 2};
    double large_fraction = 0.05;  // share of large images (long side 800..2000)
    std::uint64_t seed = 2012;
    // plan and convert on corpora of this many tiny images each (empty: skip).
    std::vector<std::uint64_t> scale;
    std::string tiny_size = "48x48";
    int tiny_classes = 100;  // at most; a class per 200 images in smaller corpora
    // Also converter@1 on the comparison corpora as the official archives (the tar of
    // tars, plain and gzipped) against their folders, alternated (issue 19).
    bool archives = false;
};

// Throws UsageError naming the option: no ranks, a rank count under 1, fewer images than
// two per class in either comparison corpus, a slope corpus not smaller than the
// comparison's, a scale corpus outside kMinScaleImages..kMaxScaleImages. The ranges of
// the numeric options are checked as they are parsed.
void validate(const BenchOptions& options);

// The corpus the comparison ran on.
struct CorpusSummary {
    std::filesystem::path path;
    bool reused = false;
    double synth_seconds = 0;  // 0 when reused
    std::uint64_t files = 0;   // train and val images
    std::uint64_t bytes = 0;
    std::uint64_t max_pixels = 0;    // the largest image's width x height
    std::uint64_t large_images = 0;  // over 1 Mpixel
};

struct BenchReport {
    std::optional<CorpusSummary> corpus;
    Measurements measurements;
    std::vector<Figure> figures;
    // The same paths on the smaller corpus, and the slopes between the two.
    std::optional<CorpusSummary> slope_corpus;
    Measurements slope_measurements;
    std::vector<Figure> slope_figures;
    // Every shard's sha256 is the same in every run's manifest of a corpus.
    bool identical_shards = true;
    std::vector<ScaleRun> scale;
    // A corpus of a few images per class: what plan and convert cost whatever the size.
    std::optional<ScaleRun> scale_startup;
    std::vector<Figure> scale_figures;
    // --archives: the layouts' converter@1 times and the gzip index's pass, the header walk
    // of a 1,000-member outer tar (see archive_figures).
    std::vector<ArchiveRun> archive_runs;
    OuterWalk outer_walk;
    std::vector<Figure> archive_figures;
    // Every layout's shards are those of the folders.
    bool archive_identical_shards = true;
};

// Runs everything (see `synshard bench --help`), logging progress with log::info.
// Corpora are reused when the work dir holds one synth made with the same parameters.
// Throws Error when a child process fails (its output in the message).
BenchReport run_bench(const BenchOptions& options, const Targets& targets);

// What `synshard bench` prints.
std::string format_report(const BenchReport& report);

// Everything measured and computed, for --json.
Json to_json(const BenchReport& report);

}  // namespace synshard::bench
