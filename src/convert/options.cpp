#include <cmath>

#include "synshard/convert/converter.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/plan/shard_limits.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/option_values.hpp"

namespace synshard::convert {

namespace {

namespace fs = std::filesystem;

// Every input path the options name, with its option.
std::vector<std::pair<std::string, fs::path>> input_paths(const corpus::CorpusOptions& corpus) {
    std::vector<std::pair<std::string, fs::path>> inputs{{"--input", corpus.input}};
    const auto add = [&](const char* option, const std::optional<fs::path>& path) {
        if (path) inputs.emplace_back(option, *path);
    };
    add("--val-input", corpus.val_input);
    add("--val-labels", corpus.val_labels);
    add("--classes", corpus.classes);
    add("--devkit", corpus.devkit);
    add("--wordnet", corpus.wordnet);
    for (const auto& boxes : corpus.boxes) inputs.emplace_back("--boxes", boxes);
    return inputs;
}

// OUT and the scratch folder are written and cleaned: neither may be, lie inside or
// (OUT) hold an input, symbolic links resolved.
void check_no_overlap(const ConvertOptions& options) {
    const fs::path output = canonical_path(options.output);
    const fs::path scratch = canonical_path(options.scratch);
    for (const auto& [option, path] : input_paths(options.corpus)) {
        const fs::path input = canonical_path(path);
        const auto refuse = [&](const std::string& what) {
            throw UsageError(what + " " + option + " " + path.string() +
                             ": choose a folder apart from the inputs");
        };
        if (is_same_or_inside(output, input)) refuse("--output is or lies inside");
        if (is_same_or_inside(input, output)) refuse("--output holds");
        if (is_same_or_inside(scratch, input)) refuse("--scratch is or lies inside");
    }
}

}  // namespace

OptionRole option_role(std::string_view name) {
    for (const std::string_view write : {"shard-size", "train-shards", "val-shards"}) {
        if (name == write) return OptionRole::write;
    }
    // Where the output is (a moved output resumes) and when a run gives up change nothing
    // that a run writes.
    for (const std::string_view unchecked : {"output", "max-reject-fraction"}) {
        if (name == unchecked) return OptionRole::unchecked;
    }
    return OptionRole::processing;
}

void record_canonical_paths(nlohmann::ordered_json& recorded) {
    for (auto& [name, value] : recorded.items()) {
        if (name != "output" && name != "input" && name != "val-input" && name != "val-labels" &&
            name != "classes" && name != "devkit" && name != "wordnet" && name != "boxes")
            continue;
        if (value.is_string()) {
            value = canonical_path(value.get<std::string>()).string();
        } else {
            for (auto& path : value) path = canonical_path(path.get<std::string>()).string();
        }
    }
}

void add_convert_options(po::options_description& options) {
    options.add_options()  //
        ("output", po::value<std::string>()->required()->value_name("OUT"),
         "output directory (shards, index.h5, manifest.json)")  //
        ("scratch", po::value<std::string>()->value_name("DIR"),
         "where processed images are spooled (default OUT/.scratch; node-local disk is fine)")  //
        ("shard-size", bounded_value<std::uint64_t>(1, plan::kMaxShardSize)->default_value(1024),
         "images per shard; the shard count is ceil(N / shard-size) (1..2147483648)")  //
        ("train-shards", bounded_value<std::uint32_t>(0, plan::kMaxShardCount)->default_value(0),
         "exact number of train shards (0..99999; 0: from --shard-size)")  //
        ("val-shards", bounded_value<std::uint32_t>(0, plan::kMaxShardCount)->default_value(0),
         "exact number of val shards (0..99999; 0: from --shard-size)")  //
        ("drop-leaks", po::value<bool>()->default_value(false)->implicit_value(true),
         "remove train images whose bytes are identical to a val image")  //
        ("max-reject-fraction", bounded_value<double>(0, 1)->default_value(0.05),
         "fail when more than this share of the inputs is rejected (0..1)")  //
        ("expect-manifest", po::value<std::string>()->value_name("FILE"),
         "after writing, fail unless every shard's sha256 matches this manifest's")  //
        ("resume", po::value<bool>()->default_value(true)->implicit_value(true),
         "continue the unfinished run recorded in OUT's journal (the inputs and options must be "
         "the same)")  //
        ("restart", po::value<bool>()->default_value(false)->implicit_value(true),
         "remove what an earlier run wrote to OUT and convert from scratch (OUT must hold "
         "nothing else)")  //
        ("no-lock", po::bool_switch(),
         "do not lock OUT (only where the file system cannot lock and no other conversion can "
         "write OUT; see docs/CLUSTER.md)")  //
        ("quiet", po::value<bool>()->default_value(false)->implicit_value(true),
         "no progress and no summary: only warnings and errors")  //
        ("stats", po::value<std::string>()->value_name("FILE"),
         "write per-rank timings, pipeline stage times and peak RSS as JSON to FILE");
}

ConvertOptions convert_options_from(const po::variables_map& values) {
    ConvertOptions options;
    options.corpus = corpus::corpus_options_from(values);
    options.pipeline = image::pipeline_options_from(values);
    options.output = values["output"].as<std::string>();
    if (options.output.empty()) throw UsageError("--output must not be empty");
    options.scratch = values.count("scratch") != 0
                          ? std::filesystem::path(values["scratch"].as<std::string>())
                          : options.output / ".scratch";
    options.shard_size = values["shard-size"].as<std::uint64_t>();
    options.train_shards = values["train-shards"].as<std::uint32_t>();
    options.val_shards = values["val-shards"].as<std::uint32_t>();
    options.drop_leaks = values["drop-leaks"].as<bool>();
    options.max_reject_fraction = values["max-reject-fraction"].as<double>();
    if (values.count("expect-manifest") != 0) {
        options.expect_manifest = values["expect-manifest"].as<std::string>();
        try {
            manifest::read_manifest(*options.expect_manifest);
        } catch (const Error& error) {
            throw UsageError("--expect-manifest " + options.expect_manifest->string() +
                             " is not a synshard manifest: " + error.what());
        }
    }
    options.quiet = values["quiet"].as<bool>();
    if (values.count("stats") != 0) options.stats = values["stats"].as<std::string>();
    options.resume = values["resume"].as<bool>();
    options.restart = values["restart"].as<bool>();
    options.lock = !values["no-lock"].as<bool>();
    check_no_overlap(options);
    return options;
}

}  // namespace synshard::convert
