#include "synshard/bench/read_bench.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <sstream>

#include "synshard/bench/child.hpp"
#include "synshard/bench/read_bench_script.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/log.hpp"

namespace synshard::bench {
namespace {

namespace fs = std::filesystem;

// The converter's defaults: what a user's shards of ImageNet look like.
constexpr const char* kResize = "shorter:256";
constexpr const char* kQuality = "90";
constexpr int kConvertRanks = 2;

void check_exit(const ChildResult& result, const std::string& what) {
    // convert's 3: done with rejected inputs (a synth corpus without quirks has none).
    if (result.exit_code == 0 || result.exit_code == 3) return;
    throw Error(what + " exited with " + std::to_string(result.exit_code) + ":\n" + result.output);
}

// The converted output of the requested corpus, made unless the marker beside it says
// these parameters made it.
fs::path ensure_output(const ReadBenchOptions& options) {
    const fs::path corpus = options.work_dir / "read-corpus";
    const fs::path output = options.work_dir / "read-out";
    const fs::path marker = output.string() + ".bench.json";
    const Json parameters = {
        {"classes", options.classes}, {"images", options.images}, {"seed", options.seed}};
    if (fs::exists(marker) && fs::is_directory(output)) {
        const auto bytes = read_file(marker);
        if (Json::parse(bytes.begin(), bytes.end(), nullptr, false) == parameters) {
            log::info("bench --read: reusing " + output.string());
            return output;
        }
    }
    fs::remove(marker);
    // ILSVRC's ~26 train images per val image.
    const std::uint64_t per_class =
        std::max<std::uint64_t>(2, options.images / static_cast<std::uint64_t>(options.classes));
    const std::uint64_t val_per_class = std::max<std::uint64_t>(1, per_class / 27);
    log::info("bench --read: generating " + corpus.string());
    check_exit(run_child({options.program.string(), "synth", "--output", corpus.string(),
                          "--num-classes", std::to_string(options.classes), "--per-class",
                          std::to_string(per_class - val_per_class), "--val-per-class",
                          std::to_string(val_per_class), "--seed", std::to_string(options.seed),
                          "--quality", kQuality}),
               "synth");
    log::info("bench --read: converting it to " + output.string());
    const std::vector<std::string> args{"convert",
                                        "--input",
                                        (corpus / "train").string(),
                                        "--val-input",
                                        (corpus / "val").string(),
                                        "--val-labels",
                                        (corpus / "LOC_val_solution.csv").string(),
                                        "--output",
                                        output.string(),
                                        "--scratch",
                                        (options.work_dir / "read-scratch").string(),
                                        "--restart",
                                        "--quiet",
                                        "--seed",
                                        std::to_string(options.seed),
                                        "--resize",
                                        kResize,
                                        "--quality",
                                        kQuality};
    check_exit(run_child(mpi_command(find_mpi_launcher(), kConvertRanks, options.program, args)),
               "convert");
    write_file_atomically(marker, parameters.dump() + "\n");
    return output;
}

// The script's JSON: the last line of its output that is one (warnings come before).
Json last_json_line(const std::string& output) {
    std::istringstream lines(output);
    std::string line;
    Json found;
    while (std::getline(lines, line)) {
        if (line.starts_with("{")) {
            Json parsed = Json::parse(line, nullptr, false);
            if (!parsed.is_discarded()) found = std::move(parsed);
        }
    }
    if (found.is_null()) throw Error("bench --read: the Python half printed no result:\n" + output);
    return found;
}

ReadRow row_from_json(const Json& json) {
    ReadRow row;
    row.name = json.at("row").get<std::string>();
    row.cache = json.value("cache", std::string());
    if (json.contains("skipped")) row.skipped = json["skipped"].get<std::string>();
    if (json.contains("failed")) row.skipped = "failed: " + json["failed"].dump();
    row.images = json.value("images", std::uint64_t{0});
    row.runs = json.value("runs", 0);
    row.seconds = json.value("seconds", 0.0);
    row.fastest_seconds = json.value("fastest_seconds", 0.0);
    row.slowest_seconds = json.value("slowest_seconds", 0.0);
    row.cpu_seconds = json.value("cpu_seconds", 0.0);
    row.busy_percent = json.value("busy_percent", 0.0);
    row.peak_rss_bytes = json.value("peak_rss_bytes", std::uint64_t{0});
    row.worker_peak_rss_bytes = json.value("worker_peak_rss_bytes", std::uint64_t{0});
    return row;
}

double per_core(const ReadRow& row, int cores) {
    return row.seconds > 0 ? static_cast<double>(row.images) / row.seconds / cores : 0;
}

double per_cpu_second(const ReadRow& row) {
    return row.cpu_seconds > 0 ? static_cast<double>(row.images) / row.cpu_seconds : 0;
}

std::string fixed(double value, int decimals) {
    std::array<char, 64> text{};
    std::snprintf(text.data(), text.size(), "%.*f", decimals, value);
    return text.data();
}

std::string megabytes(std::uint64_t bytes) {
    return fixed(static_cast<double>(bytes) / (1 << 20), 0) + " MB";
}

const ReadRow* find_row(const ReadBenchReport& report, const std::string& name,
                        const std::string& cache) {
    for (const ReadRow& row : report.rows) {
        if (row.name == name && row.cache == cache && row.skipped.empty()) return &row;
    }
    return nullptr;
}

}  // namespace

ReadBenchReport run_read_bench(const ReadBenchOptions& options) {
    fs::create_directories(options.work_dir);
    ReadBenchReport report;
    report.output = ensure_output(options);
    report.cores = options.cores;
    const fs::path script = options.work_dir / "read_bench.py";
    write_file_atomically(script, std::string_view(kReadBenchScript));
    log::info("bench --read: running the rows (" + options.python.string() + ")");
    const ChildResult result = run_child(
        {"/usr/bin/env", "PYTHONPATH=" + options.python_path.string(), options.python.string(),
         script.string(), "--out", report.output.string(), "--split", "train", "--jpeg-dir",
         (options.work_dir / "read-jpegs").string(), "--workers", std::to_string(options.cores),
         "--threads", std::to_string(options.cores)});
    if (result.exit_code != 0) {
        throw Error("bench --read: " + script.string() + " exited with " +
                    std::to_string(result.exit_code) + ":\n" + result.output);
    }
    const Json json = last_json_line(result.output);
    for (const Json& row : json.at("rows")) report.rows.push_back(row_from_json(row));
    for (const Json& note : json.at("notes")) report.notes.push_back(note.get<std::string>());
    return report;
}

std::string format_read_report(const ReadBenchReport& report) {
    std::ostringstream out;
    out << "Training reads of " << report.output.string()
        << " (train split once, uint8 224x224 RandomResizedCrop + flip, " << report.cores
        << " workers or threads each):\n";
    out << "  row             cache  images  images/s (range)  per core  images/CPU-s  own CPU  "
           "machine busy  peak RSS (worker)\n";
    for (const ReadRow& row : report.rows) {
        std::array<char, 256> line{};
        if (!row.skipped.empty()) {
            std::snprintf(line.data(), line.size(), "  %-15s skipped: %s\n", row.name.c_str(),
                          row.skipped.c_str());
        } else {
            const double per_cpu = per_cpu_second(row);
            // The row's own CPU time as a share of the cores it was given.
            const double own_busy = 100 * row.cpu_seconds / row.seconds / report.cores;
            std::snprintf(
                line.data(), line.size(),
                "  %-15s %-5s  %6llu  %5.0f (%4.0f-%4.0f)  %8.0f  %12.0f  %6.0f%%  %11.0f%%  %s "
                "(%s)\n",
                row.name.c_str(), row.cache.c_str(), static_cast<unsigned long long>(row.images),
                static_cast<double>(row.images) / row.seconds,
                static_cast<double>(row.images) / row.slowest_seconds,
                static_cast<double>(row.images) / row.fastest_seconds, per_core(row, report.cores),
                per_cpu, own_busy, row.busy_percent, megabytes(row.peak_rss_bytes).c_str(),
                megabytes(row.worker_peak_rss_bytes).c_str());
        }
        out << line.data();
    }
    for (const std::string cache : {"warm", "cold"}) {
        for (const std::string loader : {"synshard", "synshard.torch"}) {
            const ReadRow* ours = find_row(report, loader, cache);
            if (ours == nullptr) continue;
            for (const std::string baseline : {"baseline-a", "baseline-b"}) {
                const ReadRow* theirs = find_row(report, baseline, cache);
                if (theirs == nullptr || per_core(*theirs, report.cores) <= 0) continue;
                out << "  " << loader << " / " << baseline << " (" << cache << "): per core "
                    << fixed(per_core(*ours, report.cores) / per_core(*theirs, report.cores), 2)
                    << "x, per CPU-second "
                    << fixed(per_cpu_second(*ours) / per_cpu_second(*theirs), 2)
                    << "x (target 2x)\n";
            }
        }
    }
    int runs = 0;
    for (const ReadRow& row : report.rows) runs = std::max(runs, row.runs);
    out << "  median of " << runs << " runs per row, the rows in turn; per core = images/s / "
        << report.cores << "; own CPU = the row's processes' CPU time over " << report.cores
        << " cores; machine busy = every CPU during the row, other load included\n";
    for (const std::string& note : report.notes) out << "  note: " << note << "\n";
    return out.str();
}

Json to_json(const ReadBenchReport& report) {
    Json rows = Json::array();
    for (const ReadRow& row : report.rows) {
        rows.push_back({{"row", row.name},
                        {"cache", row.cache},
                        {"skipped", row.skipped},
                        {"images", row.images},
                        {"runs", row.runs},
                        {"seconds", row.seconds},
                        {"fastest_seconds", row.fastest_seconds},
                        {"slowest_seconds", row.slowest_seconds},
                        {"images_per_second_per_core", per_core(row, report.cores)},
                        {"cpu_seconds", row.cpu_seconds},
                        {"busy_percent", row.busy_percent},
                        {"peak_rss_bytes", row.peak_rss_bytes},
                        {"worker_peak_rss_bytes", row.worker_peak_rss_bytes}});
    }
    return {{"output", report.output.string()},
            {"cores", report.cores},
            {"rows", rows},
            {"notes", report.notes}};
}

}  // namespace synshard::bench
