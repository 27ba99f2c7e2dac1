#include <iomanip>
#include <sstream>

#include "synshard/cli/command.hpp"
#include "synshard/mpi/phase.hpp"
#include "synshard/synth/generator.hpp"
#include "synshard/synth/layouts.hpp"
#include "synshard/synth/plan.hpp"
#include "synshard/synth/synsets.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/option_values.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::cli {
namespace {

synth::SynthOptions read_options(const po::variables_map& values) {
    synth::SynthOptions options;
    options.output = values["output"].as<std::string>();
    options.num_classes = values["num-classes"].as<int>();
    options.per_class = values["per-class"].as<int>();
    options.val_per_class = values["val-per-class"].as<int>();
    options.seed = values["seed"].as<std::uint64_t>();
    options.quality = values["quality"].as<int>();
    options.large_fraction = values["large-fraction"].as<double>();
    if (values.count("image-size") != 0) {
        options.image_size = synth::parse_image_size(values["image-size"].as<std::string>());
    }
    options.quirks = values["quirks"].as<bool>();
    options.layout = synth::parse_layout(values["layout"].as<std::string>());
    synth::validate_options(options);
    return options;
}

std::string summary_line(const synth::SynthSummary& summary, const synth::SynthOptions& options) {
    std::ostringstream text;
    text << "synth: " << count_of(summary.classes, "class") << ", "
         << count_of(summary.train_images, "train image") << ", "
         << count_of(summary.val_images, "val image") << ", " << count_of(summary.files, "file")
         << ", " << std::fixed << std::setprecision(1) << static_cast<double>(summary.bytes) / 1e6
         << " MB in " << options.output.string();
    return text.str();
}

}  // namespace

Command synth_command() {
    return Command{
        "synth",
        "write a deterministic sample corpus in ImageNet's layouts (rank 0 only)",
        "",
        [](po::options_description& options, po::positional_options_description&) {
            options.add_options()  //
                ("output", po::value<std::string>()->required()->value_name("DIR"),
                 "corpus directory (created; a previous synth corpus there is replaced)")  //
                ("num-classes",
                 bounded_value<int>(1, static_cast<int>(synth::embedded_synsets().size()))
                     ->default_value(10)
                     ->value_name("N"),
                 "classes: the first N of the embedded WordNet 3.0 table (fixed order) "
                 "(1..448)")  //
                ("per-class",
                 bounded_value<int>(1, synth::kMaxPerClass)->default_value(40)->value_name("N"),
                 "mean train images per class (each class gets 0.5x..1.5x) (1..1000000)")  //
                ("val-per-class",
                 bounded_value<int>(0, synth::kMaxPerClass)->default_value(5)->value_name("N"),
                 "val images per class (0..1000000)")  //
                ("seed", bounded_value<std::uint64_t>(0)->default_value(0)->value_name("S"),
                 "every byte of the corpus follows from it (0 or more)")  //
                ("quality", bounded_value<int>(1, 100)->default_value(90)->value_name("Q"),
                 "JPEG quality (1..100)")  //
                ("large-fraction",
                 bounded_value<double>(0, 1)->default_value(0.05, "0.05")->value_name("F"),
                 "share of images from the large tail (long side 800..2000) (0..1)")  //
                ("image-size", po::value<std::string>()->value_name("WxH"),
                 "force every regular image to this size (e.g. 48x48 for scale tests)")  //
                ("quirks", switch_value(),
                 "add the known traps (CMYK, PNG named .JPEG, truncated, duplicates, ...); "
                 "quirks.json lists them")  //
                ("layout", po::value<std::string>()->default_value("ilsvrc")->value_name("NAME"),
                 "ilsvrc (train/, train_tars/, val/, Annotation/: the official tars "
                 "extracted), kaggle (ILSVRC/Data/CLS-LOC/{train,val}/, "
                 "ILSVRC/Annotations/CLS-LOC/{train,val}/: Kaggle's copy) or archives (the "
                 "official downloads: ILSVRC2012_img_train.tar, its gzipped twin "
                 "ILSVRC2012_img_train.tar.gz, ILSVRC2012_img_val.tar, "
                 "ILSVRC2012_bbox_train_v2.tar.gz, ILSVRC2012_bbox_val_v3.tgz, "
                 "ILSVRC2012_devkit_t12.tar.gz); the LOC_* files are at the top in all");
        },
        [](const po::variables_map& values, const mpi::Comm& comm) {
            const synth::SynthOptions options = read_options(values);
            // One corpus, written by rank 0; the others only agree on the outcome (an
            // unusable --output is a usage error on every rank).
            mpi::run_phase(comm, "synth", [&] {
                if (!comm.is_root()) return;
                log::info(summary_line(synth::generate_corpus(options), options));
            });
            return ExitCode::success;
        },
        /*interruptible=*/false,
        /*shared_section=*/"",
        /*examples=*/{}};
}

}  // namespace synshard::cli
