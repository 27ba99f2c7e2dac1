#include "synshard/convert/options.hpp"

#include <algorithm>
#include <array>

#include "synshard/convert/output_files.hpp"
#include "synshard/corpus/listing.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/plan/shard_limits.hpp"
#include "synshard/plan/shards.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/option_values.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::convert {

namespace {

namespace fs = std::filesystem;

// The corpus options that name an input the run reads.
constexpr std::array<std::string_view, 7> kInputPathOptions{
    "input", "val-input", "val-labels", "boxes", "classes", "devkit", "wordnet"};

bool names_a_path(std::string_view option) {
    return option == "output" || std::find(kInputPathOptions.begin(), kInputPathOptions.end(),
                                           option) != kInputPathOptions.end();
}

// Every input path the options name, with its option.
std::vector<std::pair<std::string, fs::path>> input_paths(const po::variables_map& values) {
    std::vector<std::pair<std::string, fs::path>> inputs;
    for (const std::string_view name : kInputPathOptions) {
        const std::string option(name);
        if (values.count(option) == 0) continue;
        const boost::any& value = values[option].value();
        if (const auto* path = boost::any_cast<std::string>(&value)) {
            inputs.emplace_back("--" + option, *path);
        } else {
            for (const auto& each : boost::any_cast<std::vector<std::string>>(value))
                inputs.emplace_back("--" + option, each);
        }
    }
    return inputs;
}

// OUT and the scratch folder are written and cleaned: neither may be, lie inside or
// (OUT) hold an input, symbolic links resolved.
void check_no_overlap(const ConvertOptions& options, const po::variables_map& values) {
    const fs::path output = canonical_path(options.output);
    const fs::path scratch = canonical_path(options.scratch);
    for (const auto& [option, path] : input_paths(values)) {
        const fs::path input = canonical_path(path);
        const char* overlap = is_same_or_inside(output, input)    ? "--output is or lies inside"
                              : is_same_or_inside(input, output)  ? "--output holds"
                              : is_same_or_inside(scratch, input) ? "--scratch is or lies inside"
                                                                  : nullptr;
        if (overlap != nullptr) {
            throw UsageError(std::string(overlap) + " " + option + " " + path.string() +
                             ": choose a folder apart from the inputs");
        }
    }
    // The user's index outlives OUT, whose files a rerun or --restart removes or replaces.
    if (values.count("archive-index") != 0 &&
        is_same_or_inside(canonical_path(*options.corpus.archive_index), output)) {
        throw UsageError("--archive-index " + options.corpus.archive_index->string() +
                         " lies in --output " + options.output.string() +
                         ": keep it outside (without --archive-index, OUT keeps one until the "
                         "run is complete)");
    }
}

struct RecordedOption {
    std::string name;
    OptionRole role;
};

// The one list of what a run records and how each option bears on a rerun. The corpus,
// pipeline and shard options come from their declarations, so that a new one is
// recorded without being named twice.
const std::vector<RecordedOption>& recorded_options() {
    static const std::vector<RecordedOption> recorded = [] {
        std::vector<RecordedOption> all;
        const auto add_declared = [&](void (*declare)(po::options_description&), OptionRole role) {
            po::options_description declared;
            declare(declared);
            for (const auto& option : declared.options())
                all.push_back({option->long_name(), role});
        };
        add_declared(corpus::add_corpus_options, OptionRole::processing);
        // How closely a resume checks the inputs shapes no output: the resume fingerprint
        // (in the journal only) carries it.
        // Nor does where a gzipped input's seek index is kept.
        std::erase_if(all, [](const RecordedOption& option) {
            return option.name == "fingerprint" || option.name == "archive-index";
        });
        add_declared(image::add_pipeline_options, OptionRole::processing);
        add_declared(add_shard_options, OptionRole::write);
        all.push_back({"drop-leaks", OptionRole::processing});
        // Where the output is (a moved output resumes) and when a run gives up change
        // nothing that a run writes.
        all.push_back({"output", OptionRole::unchecked});
        all.push_back({"max-reject-fraction", OptionRole::unchecked});
        return all;
    }();
    return recorded;
}

}  // namespace

std::vector<std::string> recorded_option_names() {
    std::vector<std::string> names;
    for (const auto& [name, role] : recorded_options()) names.push_back(name);
    return names;
}

OptionRole option_role(std::string_view name) {
    for (const auto& [recorded, role] : recorded_options()) {
        if (recorded == name) return role;
    }
    return OptionRole::processing;
}

nlohmann::ordered_json options_of_role(const nlohmann::ordered_json& recorded, OptionRole role) {
    auto chosen = nlohmann::ordered_json::object();
    for (const auto& [name, value] : recorded.items()) {
        if (option_role(name) == role) chosen[name] = value;
    }
    return chosen;
}

void record_canonical_paths(nlohmann::ordered_json& recorded) {
    for (auto& [name, value] : recorded.items()) {
        if (!names_a_path(name)) continue;
        if (value.is_string()) {
            value = canonical_path(value.get<std::string>()).string();
        } else {
            for (auto& path : value) path = canonical_path(path.get<std::string>()).string();
        }
    }
}

void add_shard_options(po::options_description& options) {
    options.add_options()  //
        ("shard-size",
         bounded_value<std::uint64_t>(1, plan::kMaxShardSize)->default_value(1024)->value_name("N"),
         "images per shard; the shard count is ceil(N / shard-size) (1..2147483648)")  //
        ("train-shards",
         bounded_value<std::uint32_t>(0, plan::kMaxShardCount)->default_value(0)->value_name("N"),
         "exact number of train shards (0..999999; 0: from --shard-size)")  //
        ("val-shards",
         bounded_value<std::uint32_t>(0, plan::kMaxShardCount)->default_value(0)->value_name("N"),
         "exact number of val shards (0..999999; 0: from --shard-size)");
}

ShardOptions shard_options_from(const po::variables_map& values) {
    return {values["shard-size"].as<std::uint64_t>(), values["train-shards"].as<std::uint32_t>(),
            values["val-shards"].as<std::uint32_t>()};
}

std::array<std::uint32_t, 2> shard_counts_for_plan(
    const ShardOptions& options, const std::array<std::uint64_t, 2>& planned_images) {
    const std::array<std::uint32_t, 2> requested{options.train_shards, options.val_shards};
    std::array<std::uint32_t, 2> counts{};
    for (const corpus::Split split : {corpus::Split::train, corpus::Split::val}) {
        const auto index = static_cast<std::size_t>(split);
        try {
            counts[index] =
                plan::shard_count_for(planned_images[index], options.shard_size, requested[index]);
        } catch (const Error& error) {
            const std::string name(corpus::to_string(split));
            const std::string option =
                requested[index] != 0 ? "--" + name + "-shards" : "--shard-size";
            throw UsageError(option + ": " + error.what() + " (the plan has " +
                             count_of(planned_images[index], name + " image") + ")");
        }
    }
    return counts;
}

void add_convert_options(po::options_description& options) {
    options.add_options()  //
        ("output", po::value<std::string>()->required()->value_name("OUT"),
         "output directory (shards, index.h5, manifest.json)")  //
        ("scratch", po::value<std::string>()->value_name("DIR"),
         "where processed images are spooled (default OUT/.scratch; node-local disk is fine)");
    add_shard_options(options);
    options.add_options()  //
        ("drop-leaks", switch_value(),
         "remove train images whose bytes are identical to a val image")  //
        ("max-reject-fraction",
         bounded_value<double>(0, 1)->default_value(0.05, "0.05")->value_name("F"),
         "fail when more than this share of the inputs is rejected (0..1)")  //
        ("expect-manifest", po::value<std::string>()->value_name("FILE"),
         "after writing, fail unless every shard's sha256 matches this manifest's")  //
        ("resume", switch_value(true),
         "continue the unfinished run recorded in OUT's journal (the inputs and options must be "
         "the same)")  //
        ("restart", switch_value(),
         "remove what an earlier run wrote to OUT and convert from scratch (OUT must hold "
         "nothing else)")  //
        ("no-lock", switch_value(),
         "do not lock OUT (only where the file system cannot lock and no other conversion can "
         "write OUT; see docs/CLUSTER.md)")  //
        ("quiet", switch_value(),
         "no progress and no summary: only warnings and errors")  //
        ("stats", po::value<std::string>()->value_name("FILE"),
         "write per-rank timings, pipeline stage times and peak RSS as JSON to FILE");
}

ConvertOptions convert_options_from(const po::variables_map& values) {
    ConvertOptions options;
    options.output = values["output"].as<std::string>();
    if (options.output.empty()) throw UsageError("--output must not be empty");
    options.corpus = corpus::corpus_options_from(values, options.output / kArchiveIndexFileName);
    options.pipeline = image::pipeline_options_from(values);
    options.scratch = values.count("scratch") != 0
                          ? std::filesystem::path(values["scratch"].as<std::string>())
                          : options.output / ".scratch";
    static_cast<ShardOptions&>(options) = shard_options_from(values);  // as plan reads them
    options.drop_leaks = values["drop-leaks"].as<bool>();
    options.max_reject_fraction = values["max-reject-fraction"].as<double>();
    if (values.count("expect-manifest") != 0) {
        options.expect_manifest = values["expect-manifest"].as<std::string>();
        manifest::read_expected_manifest(*options.expect_manifest);
    }
    options.quiet = values["quiet"].as<bool>();
    if (values.count("stats") != 0) options.stats = values["stats"].as<std::string>();
    options.resume = values["resume"].as<bool>();
    options.restart = values["restart"].as<bool>();
    options.lock = !values["no-lock"].as<bool>();
    check_no_overlap(options, values);
    return options;
}

}  // namespace synshard::convert
