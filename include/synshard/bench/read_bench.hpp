#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "synshard/bench/figures.hpp"

namespace synshard::bench {

// What `synshard bench --read` is asked to measure: training reads of one converted
// output (shorter side 256, JPEG q90, as the converter's defaults) by the usual PyTorch
// pipelines and by synshard's loader.
struct ReadBenchOptions {
    std::filesystem::path work_dir;  // the corpus, its output, the extracted JPEGs
    std::filesystem::path program;   // the synshard executable (synth, convert)
    std::filesystem::path python = "/usr/bin/python3";  // Debian's, beside python3-h5py
    std::filesystem::path python_path;                  // holds the `synshard` package
    std::uint64_t images = 3000;                        // train + val images requested of synth
    int classes = 20;
    std::uint64_t seed = 2012;
    // DataLoader workers of every PyTorch row, threads of the synshard.Loader row: the
    // cores each row is given.
    int cores = 2;
};

// One row of the table: one pipeline reading the train split once.
struct ReadRow {
    std::string name;
    std::string cache;    // "warm" or "cold"
    std::string skipped;  // why the row did not run (a missing module), else empty
    std::uint64_t images = 0;
    // The median of `runs` runs (rounds of every row in turn), and the extremes.
    int runs = 0;
    double seconds = 0;
    double fastest_seconds = 0;
    double slowest_seconds = 0;
    double cpu_seconds = 0;                   // the row's process and its DataLoader workers
    double busy_percent = 0;                  // every CPU of the machine, from /proc/stat
    std::uint64_t peak_rss_bytes = 0;         // the row's process
    std::uint64_t worker_peak_rss_bytes = 0;  // its largest DataLoader worker
};

struct ReadBenchReport {
    std::filesystem::path output;
    int cores = 2;
    std::vector<ReadRow> rows;
    std::vector<std::string> notes;
};

// Generates and converts the corpus (reused when the work dir holds one of the same
// parameters), extracts its train images as JPEG files for the ImageFolder baseline, and
// runs every row, each in a fresh Python process. A row whose module is missing is
// skipped with a note. Throws Error when a child process fails.
ReadBenchReport run_read_bench(const ReadBenchOptions& options);

// The table, with synshard's speed-up per core over each baseline.
std::string format_read_report(const ReadBenchReport& report);

Json to_json(const ReadBenchReport& report);

}  // namespace synshard::bench
