#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace synshard::bench {

using Json = nlohmann::ordered_json;

// The phases of the table, in order. Sums over ranks of each rank's seconds: scan (plan),
// decode/resize/encode/stats (the pipeline's stage times; stats: the manifest's pixel
// sums), read+hash (the rest of the process phase: reading inputs, SHA-256, spooling),
// exchange (dedup and assign all-to-alls, and the write rounds' image exchange), write
// (HDF5 shards), manifest (the root's index.h5 and manifest.json), other (start-up,
// agreement, waiting for the root).
inline const std::vector<std::string> kPhases{"scan",     "decode",    "resize",   "encode",
                                              "stats",    "read+hash", "exchange", "write",
                                              "manifest", "other"};

// One end-to-end converter run under mpirun.
struct ConverterRun {
    int ranks = 0;
    double wall_seconds = 0;   // mpirun started to mpirun exited
    double cached_share = 0;   // of its inputs' pages, in the page cache when it started
    std::uint64_t images = 0;  // images stored in the shards
    std::vector<std::uint64_t> peak_rss_bytes;    // by rank
    std::map<std::string, double> phase_seconds;  // kPhases, summed over ranks
    double rank_seconds = 0;                      // the ranks' run times, summed
    double decode_seconds = 0;                    // summed over ranks
    std::uint64_t source_pixels = 0;              // of the images decoded
    std::uint64_t output_bytes = 0;               // shards + index.h5 + manifest.json
    std::uint64_t payload_bytes = 0;              // encoded image bytes inside the shards
};

// Fills ranks, peak_rss_bytes, phase_seconds, rank_seconds, decode_seconds and
// source_pixels of a run from the JSON `synshard convert --stats` wrote (see
// convert::convert()). Throws Error naming the missing key.
ConverterRun converter_run_from_stats(const Json& stats);

// A single-thread loop over the corpus held in memory.
struct LoopRun {
    std::uint64_t images = 0;
    double seconds = 0;
    double decode_seconds = 0;        // 0 when the loop has no stage times (naive)
    std::uint64_t source_pixels = 0;  // of the images decoded
};

struct Measurements {
    std::vector<ConverterRun> runs;  // by increasing rank count
    LoopRun floor;                   // Pipeline::process, the converter's options
    LoopRun naive;                   // naive_resize_encode
    // The SHA-256 of each source and of its stored image, timed alone: what the format
    // (`source_sha256`, the manifest's shard digests) has the converter pay per image.
    LoopRun digests;
};

// The targets (ratios, because the machine is shared).
struct Targets {
    double floor_ratio = 0.85;  // converter per core / floor, at least
    double naive_ratio = 1.6;   // converter per core / naive, at least
    double scaling = 0.9;       // rate(P) / (P x rate(1)), at least
    std::uint64_t peak_rss_bytes = std::uint64_t{256} << 20;  // per rank, at most
    double output_overhead = 0.01;                            // output / payload - 1, at most
    double scale_flatness = 0.2;                              // |large / small - 1|, at most
    // Of the slopes (issue 18): ms per image the converter@1 adds to the floor, at most;
    // floor / converter@1 and naive / floor (rates per core), at least.
    double slope_overhead_ms = 0.15;
    double slope_floor_ratio = 0.9;
    double slope_naive_ratio = 2.0;
    // converter@1 from the tar of tars / from folders (rates), at least (issue 19).
    double archive_ratio = 0.95;
    // The header walk of a 1,000-member outer tar with its pages dropped, ms at most: "under
    // a second even cold" (issue 19).
    double outer_walk_cold_ms = 1000;
};

enum class Verdict { none, pass, miss };

// One line of the table.
struct Figure {
    std::string key;   // for --json: "converter_1_vs_floor"
    std::string name;  // for people: "converter@1 / floor (per core)"
    double value = 0;
    std::string unit;    // "images/s/core", "x", "MiB", "%", "Mpixel/s", "us/image"
    std::string target;  // ">= 0.85", empty when the figure has no target
    Verdict verdict = Verdict::none;
};

// The figures of the comparison: images/s/core of each converter run, the floor and the
// naive path; each run's ratio to the floor and the naive path; the scaling efficiency of
// every run with P > 1 ranks against the 1-rank run (when there is one); each run's peak
// RSS of its largest rank, output overhead and decode Mpixel/s; the loops' decode
// Mpixel/s. Expects positive seconds and images.
std::vector<Figure> compare(const Measurements& measurements, const Targets& targets);

// The slope method: each path's cost per image as the difference of its times on two
// corpora of the same parameters over the difference of their images, so that whatever a
// run costs regardless of its size (mpirun, MPI and process start-up, the WordNet load)
// cancels out. Figures, in ms per image (wall, for converter@P): the floor's and the naive
// path's slopes and floor / naive (rates); per converter run the small corpus ran at the
// same rank count, its slope, its rank's peak RSS on either corpus, and at 1 rank the
// overhead (its slope less the floor's) and floor / converter@1, at P > 1 the scaling
// slope@1 / (P x slope@P) when there is a 1-rank run. A ratio whose divisor is not
// positive is 0.
std::vector<Figure> slope_figures(const Measurements& small, const Measurements& large,
                                  const Targets& targets);

// share of each of kPhases in a run's summed rank seconds (0..1).
std::map<std::string, double> phase_shares(const ConverterRun& run);

// plan and convert on a corpus of tiny images.
struct ScaleRun {
    std::uint64_t images = 0;  // stored
    int ranks = 0;
    double plan_seconds = 0;                      // `synshard plan`, one process
    std::uint64_t plan_peak_rss_bytes = 0;        // that process
    std::map<std::string, double> phase_seconds;  // the convert root's phases (its view)
    std::uint64_t root_peak_rss_bytes = 0;        // the convert root
    std::uint64_t manifest_bytes = 0;             // manifest.json + index.h5
};

// Scaling is judged on the time an image adds: each time less the start-up run's (a
// corpus of a few images per class), over the images beyond the start-up run's. Figures:
// the start-up run's seconds; per run, plan and each convert phase in microseconds per
// image, as measured and beyond the start-up, plan and root peak RSS; then, between the
// smallest and the largest run, the ratio of each of those per-image times beyond the
// start-up (target: within scale_flatness of 1; phases the smaller run did not time are
// left out; a phase under 1% of the larger run's total is shown without a verdict), of
// plan and root peak RSS (at most 1 + scale_flatness: a smaller RSS is never a miss), and
// the root's RSS growth per extra image. Runs sorted by images; no ratios for fewer than
// two runs; without a start-up run, nothing is subtracted.
std::vector<Figure> scale_figures(const std::vector<ScaleRun>& runs,
                                  const std::optional<ScaleRun>& startup, const Targets& targets);

// converter@1 on one corpus from its folders and from the official archives, each time
// the fastest of the alternated runs.
struct ArchiveRun {
    std::uint64_t images = 0;  // stored, the same in every layout
    double folders_seconds = 0;
    double tar_seconds = 0;   // --input the tar of tars
    double gzip_seconds = 0;  // --input the gzipped tar of tars, its index reused
    // In process: the gzip index's pass over the compressed bytes (which walks the outer
    // headers as they come out).
    double index_seconds = 0;
    std::uint64_t compressed_bytes = 0;
};

// The header walk of an outer tar of `members` inner tars (ILSVRC-2012's train tar has 1,000),
// in process: warm (the file's pages cached) and cold (its pages dropped first).
struct OuterWalk {
    std::uint64_t members = 0;
    double warm_seconds = 0;
    double cold_seconds = 0;
};

// Per layout, ms per image (the slope between the first and the last run when there are
// two, else the time over the images) and folders / layout as a rate ratio (the tar of
// tars against archive_ratio); of the largest run, the gzip index's MB/s (compressed); the
// outer walk in ms, cold against outer_walk_cold_ms.
std::vector<Figure> archive_figures(const std::vector<ArchiveRun>& runs, const OuterWalk& walk,
                                    const Targets& targets);

// "PASS", "MISS" or "".
std::string to_string(Verdict verdict);

// A fixed-width table: name, value with unit, target, verdict.
std::string format_table(const std::vector<Figure>& figures);

// The phase shares of each run side by side (one column per run) with seconds per image.
std::string format_phase_table(const std::vector<ConverterRun>& runs);

// {key: {"name", "value", "unit", "target", "verdict"}} in order.
Json to_json(const std::vector<Figure>& figures);

}  // namespace synshard::bench
