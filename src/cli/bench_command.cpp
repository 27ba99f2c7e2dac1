#include <charconv>
#include <iostream>

#include "synshard/bench/bench.hpp"
#include "synshard/bench/read_bench.hpp"
#include "synshard/cli/command.hpp"
#include "synshard/synth/plan.hpp"
#include "synshard/synth/synsets.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/option_values.hpp"

namespace synshard::cli {
namespace {

// "1,2" -> {1, 2}; throws UsageError naming the option.
template <typename Number>
std::vector<Number> parse_list(const std::string& option, std::string_view text) {
    std::vector<Number> numbers;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const auto part = text.substr(0, comma);
        Number value{};
        const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
        if (error != std::errc() || end != part.data() + part.size()) {
            throw UsageError("--" + option + ": '" + std::string(part) +
                             "' is not a number (expected e.g. 1,2)");
        }
        numbers.push_back(value);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    }
    return numbers;
}

bench::BenchOptions read_options(const po::variables_map& values) {
    bench::BenchOptions options;
    options.work_dir = values["work-dir"].as<std::string>();
    // One size: the comparison alone; two: a smaller corpus too, for the slopes.
    const std::string text = values["images"].as<std::string>();
    const std::string range = "0.." + std::to_string(synth::kMaxPerClass);
    std::vector<std::uint64_t> sizes;
    try {
        sizes = parse_list<std::uint64_t>("images", text);
    } catch (const UsageError&) {
        throw UsageError("--images: '" + text + "' is not one or two sizes in " + range +
                         " (e.g. 1000,3000)");
    }
    if (sizes.empty() || sizes.size() > 2)
        throw UsageError("--images: name one corpus size or two (e.g. 1000,3000)");
    for (const auto images : sizes) {
        if (images > static_cast<std::uint64_t>(synth::kMaxPerClass)) {
            throw UsageError("--images: " + std::to_string(images) + " is not in " + range);
        }
    }
    options.images = sizes.back();
    options.slope_images = sizes.size() == 2 ? sizes.front() : 0;
    options.classes = values["classes"].as<int>();
    options.ranks = parse_list<int>("ranks", values["ranks"].as<std::string>());
    options.large_fraction = values["large-fraction"].as<double>();
    options.seed = values["seed"].as<std::uint64_t>();
    if (values.count("scale") != 0)
        options.scale = parse_list<std::uint64_t>("scale", values["scale"].as<std::string>());
    options.tiny_size = values["tiny-size"].as<std::string>();
    options.archives = values["archives"].as<bool>();
    bench::validate(options);
    return options;
}

}  // namespace

Command bench_command() {
    return Command{
        "bench",
        "measure the whole job: converter at 1 and 2 ranks (mpirun) vs the single-thread floor "
        "and the naive OpenCV path; plan/convert scale on tiny images (run as a plain process)",
        "",
        [](po::options_description& options, po::positional_options_description&) {
            options.add_options()  //
                ("work-dir", po::value<std::string>()->required()->value_name("DIR"),
                 "corpora (kept and reused when the parameters match), outputs, stats")  //
                // At most synth's per-class cap, so that even one class can hold them.
                ("images",
                 po::value<std::string>()->default_value("1000,3000")->value_name("[N1,]N2"),
                 "ImageNet-like images (about 500x375, ~110 KB, a tail of large ones) for the "
                 "comparison; with two sizes, the comparison runs on both corpora (same "
                 "parameters) and the slopes between them (ms per image, start-up cancelled) are "
                 "reported too; 0 skips it (0..1000000 each)")  //
                ("classes",
                 bounded_value<int>(1, static_cast<int>(synth::embedded_synsets().size()))
                     ->default_value(20)
                     ->value_name("N"),
                 "classes of that corpus (1..448, synth's table)")  //
                ("ranks", po::value<std::string>()->default_value("1,2")->value_name("LIST"),
                 "rank counts the converter runs at (mpirun -np each); the largest is also "
                 "used for --scale")  //
                ("large-fraction",
                 bounded_value<double>(0, 1)->default_value(0.05, "0.05")->value_name("F"),
                 "share of large images (long side 800..2000, at most 4 Mpixel) (0..1)")  //
                ("seed", bounded_value<std::uint64_t>(0)->default_value(2012)->value_name("S"),
                 "seed of the corpora and of the conversion (0 or more)")  //
                ("scale", po::value<std::string>()->value_name("LIST"),
                 "also run plan and convert on corpora of this many tiny images each, e.g. "
                 "20000,200000, and compare time per image (beyond the start-up, timed on a "
                 "corpus of a few images per class) and peak RSS (each 100..100000000)")  //
                ("tiny-size", po::value<std::string>()->default_value("48x48")->value_name("WxH"),
                 "the size of the --scale images")  //
                ("json", po::value<std::string>()->value_name("FILE"),
                 "also write every measurement and figure as JSON")  //
                ("archives", po::bool_switch(),
                 "also converter@1 from the same images as the official archives (the tar of "
                 "tars, plain and gzipped) against their folders, alternated; the gzip index's "
                 "pass; the header walk of a 1,000-member outer tar, warm and cold (about "
                 "doubles the comparison's time)")  //
                ("read", po::bool_switch(),
                 "instead: training reads of a converted corpus of the last --images size, "
                 "torchvision's ImageFolder and README's h5py Dataset against synshard.Loader "
                 "and synshard.torch, 2 cores each, warm and cold page cache (needs the Python "
                 "package built and python3-torch)");
        },
        [](const po::variables_map& values, const mpi::Comm& comm) {
            bench::BenchOptions options = read_options(values);
            if (comm.size() != 1) {
                throw UsageError(
                    "run 'synshard bench' as a plain process: it starts mpirun "
                    "itself");
            }
            options.program = std::filesystem::read_symlink("/proc/self/exe");
            if (values["read"].as<bool>()) {
                // build/src/synshard beside build/python, where the package is assembled.
                const auto report =
                    bench::run_read_bench({options.work_dir, options.program, "/usr/bin/python3",
                                           options.program.parent_path().parent_path() / "python",
                                           options.images, options.classes, options.seed});
                std::cout << bench::format_read_report(report) << std::flush;
                if (values.count("json") != 0) {
                    write_file_atomically(values["json"].as<std::string>(),
                                          bench::to_json(report).dump(2) + "\n");
                }
                return ExitCode::success;
            }
            const auto report = bench::run_bench(options, bench::Targets{});
            std::cout << bench::format_report(report) << std::flush;
            if (values.count("json") != 0) {
                write_file_atomically(values["json"].as<std::string>(),
                                      bench::to_json(report).dump(2) + "\n");
            }
            return ExitCode::success;
        },
        /*interruptible=*/false,
        /*shared_section=*/"",
        /*examples=*/{}};
}

}  // namespace synshard::cli
