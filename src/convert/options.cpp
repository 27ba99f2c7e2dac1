#include <cmath>

#include "synshard/convert/converter.hpp"
#include "synshard/util/error.hpp"

namespace synshard::convert {

void add_convert_options(po::options_description& options) {
    options.add_options()  //
        ("output", po::value<std::string>()->required()->value_name("OUT"),
         "output directory (shards, index.h5, manifest.json)")  //
        ("scratch", po::value<std::string>()->value_name("DIR"),
         "where processed images are spooled (default OUT/.scratch; node-local disk is fine)")  //
        ("shard-size", po::value<std::uint64_t>()->default_value(1024),
         "images per shard; the shard count is ceil(N / shard-size)")  //
        ("train-shards", po::value<std::uint32_t>()->default_value(0),
         "exact number of train shards (0: from --shard-size)")  //
        ("val-shards", po::value<std::uint32_t>()->default_value(0),
         "exact number of val shards (0: from --shard-size)")  //
        ("drop-leaks", po::value<bool>()->default_value(false)->implicit_value(true),
         "remove train images whose bytes are identical to a val image")  //
        ("max-reject-fraction", po::value<double>()->default_value(0.05),
         "fail when more than this share of the inputs is rejected")  //
        ("expect-manifest", po::value<std::string>()->value_name("FILE"),
         "after writing, fail unless every shard's sha256 matches this manifest's")  //
        ("resume", po::value<bool>()->default_value(true)->implicit_value(true),
         "continue the unfinished run recorded in OUT's journal (the inputs and options must be "
         "the same)")  //
        ("restart", po::value<bool>()->default_value(false)->implicit_value(true),
         "remove what an earlier run wrote to OUT and convert from scratch")  //
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
    if (options.shard_size == 0) throw UsageError("--shard-size must be at least 1");
    options.train_shards = values["train-shards"].as<std::uint32_t>();
    options.val_shards = values["val-shards"].as<std::uint32_t>();
    options.drop_leaks = values["drop-leaks"].as<bool>();
    options.max_reject_fraction = values["max-reject-fraction"].as<double>();
    if (!(options.max_reject_fraction >= 0.0 && options.max_reject_fraction <= 1.0)) {
        throw UsageError("--max-reject-fraction must be between 0 and 1");
    }
    if (values.count("expect-manifest") != 0) {
        options.expect_manifest = values["expect-manifest"].as<std::string>();
        if (!std::filesystem::is_regular_file(*options.expect_manifest)) {
            throw UsageError("--expect-manifest " + options.expect_manifest->string() +
                             " is not a file");
        }
    }
    options.quiet = values["quiet"].as<bool>();
    if (values.count("stats") != 0) options.stats = values["stats"].as<std::string>();
    options.resume = values["resume"].as<bool>();
    options.restart = values["restart"].as<bool>();
    return options;
}

}  // namespace synshard::convert
