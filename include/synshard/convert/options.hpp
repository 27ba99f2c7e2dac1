#pragma once

#include <array>
#include <boost/program_options.hpp>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "synshard/corpus/options.hpp"
#include "synshard/image/pipeline.hpp"

namespace synshard::convert {

namespace po = boost::program_options;

// The shard options of `convert`, which `plan` takes too: both declare, read and count
// with the functions below, so that plan prints the counts convert writes and refuses
// what convert refuses.
struct ShardOptions {
    std::uint64_t shard_size = 1024;
    std::uint32_t train_shards = 0;  // 0: ceil(N / shard_size)
    std::uint32_t val_shards = 0;
};

// Declares --shard-size, --train-shards and --val-shards with their ranges.
void add_shard_options(po::options_description& options);

// The options add_shard_options() declared (their ranges were checked while parsing).
ShardOptions shard_options_from(const po::variables_map& values);

// The shard count of each split (train, val) for `planned_images` (train, val), as
// plan::shard_count_for gives it. Throws UsageError when a count is refused, naming the
// option to change (--train-shards or --val-shards when given, else --shard-size) and
// the planned images.
std::array<std::uint32_t, 2> shard_counts_for_plan(
    const ShardOptions& options, const std::array<std::uint64_t, 2>& planned_images);

// Everything `synshard convert` is told (its ShardOptions are those above).
struct ConvertOptions : ShardOptions {
    corpus::CorpusOptions corpus;
    image::PipelineOptions pipeline;
    std::filesystem::path output;
    std::filesystem::path scratch;  // default OUT/.scratch
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
    // The recorded options (recorded_option_names()), as in the manifest.
    nlohmann::ordered_json effective = nlohmann::ordered_json::object();
};

// Declares the converter's own options (--output, --scratch, the shard options, ...).
void add_convert_options(po::options_description& options);

// Reads and validates every option of `convert` (corpus, pipeline, converter). Throws
// UsageError naming the option, also when OUT or the scratch folder is, lies inside or
// (OUT) holds an input, when --archive-index lies in OUT, and when --expect-manifest is
// not a synshard manifest. An archive --input (plain or gzipped) without --archive-index
// keeps its index at OUT/kArchiveIndexFileName.
ConvertOptions convert_options_from(const po::variables_map& values);

// How a recorded option bears on a rerun of the same output.
enum class OptionRole {
    processing,  // shapes the processed images: a change refuses the resume
    write,       // only the shard assignment and files: the spools are reused, shards rewritten
    unchecked,   // shapes nothing a run writes (where OUT is, when a run gives up)
};

// The options a run records in its journal and as the manifest's "options": every
// corpus and pipeline option and the converter's shard options, --drop-leaks, --output
// and --max-reject-fraction. The others (--scratch, --resume, --quiet, ...) only say how
// a run goes, and the manifest must not differ by them.
std::vector<std::string> recorded_option_names();

// The role of a recorded option; `processing` for any other name, so that an option
// not classified here refuses a resume rather than slipping through.
OptionRole option_role(std::string_view name);

// The recorded options whose role is `role`, in their recorded order.
nlohmann::ordered_json options_of_role(const nlohmann::ordered_json& recorded, OptionRole role);

// Replaces the paths among the recorded options (OUT and every input) by their canonical
// form, so that "out", "./out" and "out/" record the same output.
void record_canonical_paths(nlohmann::ordered_json& recorded);

}  // namespace synshard::convert
