#include <algorithm>

#include "synshard/cli/command.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/cli/root_only.hpp"
#include "synshard/reader/dataset.hpp"
#include "synshard/reader/picture.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/option_values.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::cli {
namespace {

constexpr int kMaxSheetSamples = 1024;

struct ShowOptions {
    std::string output;
    std::string split;
    std::uint64_t index = 0;
    std::string key;
    std::filesystem::path picture;
    int contact_sheet = 0;
    int tile = 256;
};

ShowOptions read_options(const po::variables_map& values) {
    ShowOptions options;
    options.output = values["output"].as<std::string>();
    options.split = values["split"].as<std::string>();
    options.index = static_cast<std::uint64_t>(values["index"].as<std::int64_t>());
    if (values.count("key") != 0) options.key = values["key"].as<std::string>();
    options.picture = values["out"].as<std::string>();
    if (options.picture.extension() != ".png") {
        throw UsageError("--out " + options.picture.string() + ": the picture is a .png file");
    }
    options.contact_sheet = values["contact-sheet"].as<int>();
    options.tile = values["tile"].as<int>();
    if (!options.key.empty() && options.contact_sheet != 0) {
        throw UsageError("--key shows one sample; give --index for a contact sheet");
    }
    return options;
}

reader::Tile tile_of(const reader::Dataset& dataset, const h5::SampleRow& sample,
                     const std::string& where) {
    const h5::ClassEntry& entry = dataset.class_entry(sample.label);
    return reader::Tile{
        dataset.rgb(sample),
        sample.boxes,
        {where + "  " + std::to_string(sample.width) + "x" + std::to_string(sample.height) +
             "  label " + std::to_string(sample.label),
         // The words first: a narrow tile cuts the line's end, and the class stays legible.
         entry.words + "  " + entry.synset, sample.key}};
}

ExitCode show(const ShowOptions& options) {
    const reader::Dataset dataset(options.output);
    const auto& splits = dataset.splits();
    if (std::find(splits.begin(), splits.end(), options.split) == splits.end()) {
        throw UsageError("--split " + options.split + ": " + options.output + " has no such split");
    }
    if (!options.key.empty()) {
        const auto located = dataset.locate(options.key);
        if (!located) throw UsageError("--key " + options.key + ": not in " + options.output);
        const h5::SampleRow sample =
            dataset.shard(located->split, located->shard).read(located->row);
        const std::uint64_t index = dataset.global_index(
            located->split, reader::SamplePosition{located->shard, located->row});
        reader::write_png(options.picture,
                          reader::draw_tile(tile_of(dataset, sample,
                                                    located->split + " " + std::to_string(index))));
        log::info("show: " + options.key + " -> " + options.picture.string());
        return ExitCode::success;
    }
    const std::uint64_t available = dataset.num_samples(options.split);
    if (options.index >= available) {
        throw UsageError("--index " + std::to_string(options.index) + ": the " + options.split +
                         " split has " + std::to_string(available) + " samples");
    }
    const std::uint64_t count =
        options.contact_sheet == 0
            ? 1
            : std::min<std::uint64_t>(static_cast<std::uint64_t>(options.contact_sheet),
                                      available - options.index);
    std::vector<reader::Tile> tiles;
    for (std::uint64_t i = options.index; i < options.index + count; ++i) {
        tiles.push_back(tile_of(dataset, dataset.sample(options.split, i),
                                options.split + " " + std::to_string(i)));
    }
    const cv::Mat picture = options.contact_sheet == 0
                                ? reader::draw_tile(tiles.front())
                                : reader::draw_contact_sheet(tiles, options.tile);
    reader::write_png(options.picture, picture);
    log::info("show: " + count_of(count, options.split + " sample") + " from " +
              std::to_string(options.index) + " -> " + options.picture.string() + " (" +
              std::to_string(picture.cols) + "x" + std::to_string(picture.rows) + ")");
    return ExitCode::success;
}

}  // namespace

Command show_command() {
    Command command;
    command.name = "show";
    command.summary = "draw a sample, or a contact sheet of samples, with boxes and class words";
    command.operands = "OUT";
    command.describe = [](po::options_description& options,
                          po::positional_options_description& positional) {
        add_output_operand(options, positional);
        options.add_options()  //
            ("split", po::value<std::string>()->default_value("train")->value_name("SPLIT"),
             "train or val")  //
            ("index", bounded_value<std::int64_t>(0)->default_value(0)->value_name("I"),
             "sample I of the split (shard 0's rows first), the first of a contact sheet (0 or "
             "more)")  //
            ("key", po::value<std::string>()->value_name("KEY"),
             "the sample stored under this key instead of --split/--index")  //
            ("out", po::value<std::string>()->required()->value_name("FILE.png"),
             "the picture to write (PNG)")  //
            ("contact-sheet",
             bounded_value<int>(0, kMaxSheetSamples)->default_value(0)->value_name("N"),
             "a grid of samples I..I+N-1 instead of one sample at its stored size (0..1024; 0: "
             "one sample)")  //
            ("tile", bounded_value<int>(16, 4096)->default_value(256)->value_name("PX"),
             "contact sheet cell side: each image is scaled to fit PX x PX (16..4096)");
    };
    command.execute = [](const po::variables_map& values, const mpi::Comm& comm) {
        const ShowOptions options = read_options(values);
        return run_on_root(comm, "show", [&] { return show(options); });
    };
    return command;
}

}  // namespace synshard::cli
