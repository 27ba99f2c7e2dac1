#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "synshard/corpus/options.hpp"
#include "synshard/image/pipeline.hpp"
#include "synshard/mpi/comm.hpp"
#include "synshard/util/exit_code.hpp"

namespace synshard::convert {

namespace po = boost::program_options;

// Everything `synshard convert` is told.
struct ConvertOptions {
    corpus::CorpusOptions corpus;
    image::PipelineOptions pipeline;
    std::filesystem::path output;
    std::filesystem::path scratch;  // default OUT/.scratch
    std::uint64_t shard_size = 1024;
    std::uint32_t train_shards = 0;  // 0: ceil(N / shard_size)
    std::uint32_t val_shards = 0;
    bool drop_leaks = false;
    double max_reject_fraction = 0.05;
    std::optional<std::filesystem::path> expect_manifest;
    bool quiet = false;
    // Where the root writes this run's measurements (see convert()); none by default.
    std::optional<std::filesystem::path> stats;
    // A rerun on an output holding an unfinished run's journal resumes it (the default);
    // restart removes what an earlier run wrote and starts over.
    bool resume = true;
    bool restart = false;
    // Hold OUT's lock for the run (--no-lock: the file system cannot lock).
    bool lock = true;
    // The options that shape the output, as recorded in the manifest.
    nlohmann::ordered_json effective = nlohmann::ordered_json::object();
};

// Declares the converter's own options (--output, --scratch, --shard-size, ...).
void add_convert_options(po::options_description& options);

// Reads and validates every option of `convert` (corpus, pipeline, converter). Throws
// UsageError naming the option, also when OUT or the scratch folder is, lies inside or
// (OUT) holds an input, and when --expect-manifest is not a synshard manifest.
ConvertOptions convert_options_from(const po::variables_map& values);

// How a recorded option bears on a rerun of the same output.
enum class OptionRole {
    processing,  // shapes the processed images: a change refuses the resume
    write,       // only the shard assignment and files: the spools are reused, shards rewritten
    unchecked,   // shapes nothing a run writes (where OUT is, when a run gives up)
};
OptionRole option_role(std::string_view name);

// Replaces the paths among the recorded options (OUT and every input) by their canonical
// form, so that "out", "./out" and "out/" record the same output.
void record_canonical_paths(nlohmann::ordered_json& recorded);

// Collective: converts the corpus into OUT (see docs/ARCHITECTURE.md for the phases).
// With options.stats, once the manifest is written the root also writes that JSON file:
// {"ranks": P, "exit_code": C, "per_rank": [{"rank", "seconds" (the rank's whole run),
// "peak_rss_bytes" (its VmHWM at the end), "phases" {phase: seconds as the rank saw it},
// "write_exchange_seconds" (the write rounds' image exchange, inside "write"), "stages"
// {"decode", "resize", "encode" seconds, "images", "source_pixels"} (its Pipeline's
// StageTimes)}, ...]} for benchmarks (`synshard bench`).
// Returns success, completed_with_rejections or interrupted; throws on failure (a
// PhaseFailure on every rank).
ExitCode convert(const ConvertOptions& options, const mpi::Comm& comm);

}  // namespace synshard::convert
