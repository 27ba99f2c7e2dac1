#include "synshard/bench/bench.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <opencv2/core/utility.hpp>
#include <tuple>

#include "synshard/bench/child.hpp"
#include "synshard/bench/naive.hpp"
#include "synshard/convert/output_files.hpp"
#include "synshard/corpus/archive_input.hpp"
#include "synshard/corpus/file_byte_source.hpp"
#include "synshard/image/pipeline.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/reader/shard_reader.hpp"
#include "synshard/synth/generator.hpp"
#include "synshard/synth/layouts.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// The converter's own defaults, spelled out so the loops and the runs surely agree.
constexpr const char* kResize = "shorter:256";
constexpr int kQuality = 90;
// Runs of the scale start-up corpus; the minimum of each time is kept.
constexpr int kStartupRepetitions = 3;
// The comparison's converter runs (alternated across rank counts) and its floor loop, each
// the faster of this many: noise only adds, and a slope divides the difference of two runs
// by the images between them (1,795 by default), so 0.3 s of noise in one run would move
// it by 0.17 ms per image.
constexpr int kComparisonRepetitions = 2;

struct CorpusRequest {
    fs::path path;
    int classes = 0;
    std::uint64_t images = 0;
    double large_fraction = 0;
    std::uint64_t seed = 0;
    std::string image_size;  // empty: ImageNet-like sizes
    synth::Layout layout = synth::Layout::ilsvrc;
};

// Synth's options for about `images` train+val images (ILSVRC's ~26 train per val image).
synth::SynthOptions synth_options(const CorpusRequest& request) {
    synth::SynthOptions options;
    options.output = request.path;
    options.num_classes = request.classes;
    const auto per_class = static_cast<int>(std::max<std::uint64_t>(
        2, (request.images + static_cast<std::uint64_t>(request.classes) / 2) /
               static_cast<std::uint64_t>(request.classes)));
    options.val_per_class = std::max(1, per_class / 27);
    options.per_class = per_class - options.val_per_class;
    options.seed = request.seed;
    options.quality = kQuality;
    options.large_fraction = request.large_fraction;
    options.layout = request.layout;
    if (!request.image_size.empty())
        options.image_size = synth::parse_image_size(request.image_size);
    return options;
}

// Generates the corpus unless the marker beside it says this request made it. Returns
// the synth seconds (0 when reused).
double ensure_corpus(const CorpusRequest& request) {
    Json parameters = {{"classes", request.classes},
                       {"images", request.images},
                       {"large_fraction", request.large_fraction},
                       {"seed", request.seed},
                       {"image_size", request.image_size}};
    // Said only when not the default, so that corpora made before keep being reused.
    if (request.layout != synth::Layout::ilsvrc)
        parameters["layout"] = synth::to_string(request.layout);
    const fs::path marker = request.path.string() + ".bench.json";
    if (fs::exists(marker) && fs::is_directory(request.path)) {
        const auto bytes = read_file(marker);
        if (Json::parse(bytes.begin(), bytes.end(), nullptr, false) == parameters) {
            log::info("bench: reusing " + request.path.string());
            return 0;
        }
    }
    fs::remove(marker);
    const auto options = synth_options(request);
    synth::validate_options(options);
    synth::check_output(options.output);
    log::info("bench: generating " + request.path.string() + " (" + std::to_string(request.images) +
              " images)");
    const auto start = Clock::now();
    synth::generate_corpus(options);
    const double seconds = seconds_since(start);
    write_file_atomically(marker, parameters.dump() + "\n");
    return seconds;
}

std::vector<std::string> corpus_args(const fs::path& corpus, bool boxes) {
    std::vector<std::string> args{"--input",      (corpus / "train").string(),
                                  "--val-input",  (corpus / "val").string(),
                                  "--val-labels", (corpus / "LOC_val_solution.csv").string()};
    if (boxes) {
        for (const char* source : {"Annotation", "LOC_val_solution.csv"}) {
            args.emplace_back("--boxes");
            args.push_back((corpus / source).string());
        }
    }
    return args;
}

void check_exit(const ChildResult& result, const std::string& what) {
    // 3: done, some inputs rejected (a synth corpus without quirks has none, but the
    // measurement stands either way).
    if (result.exit_code == 0 || result.exit_code == 3) return;
    throw Error(what + " exited with " + std::to_string(result.exit_code) + ":\n" + result.output);
}

// mpirun -np ranks synshard convert ... --stats; the stats file parsed.
struct ConvertResult {
    ChildResult child;
    Json stats;
    fs::path output;
    double cached_share = 0;  // of the inputs' pages, in the page cache at the start
};

// Every file the corpus options name, the files inside a named folder included.
std::vector<fs::path> files_named_by(const std::vector<std::string>& inputs) {
    std::vector<fs::path> files;
    for (const auto& input : inputs) {
        if (input.starts_with("--")) continue;
        if (fs::is_directory(input)) {
            for (const auto& entry : fs::recursive_directory_iterator(input)) {
                if (entry.is_regular_file()) files.push_back(entry.path());
            }
        } else if (fs::is_regular_file(input)) {
            files.push_back(input);
        }
    }
    return files;
}

// Reads every file through, so that a converter run finds its inputs in the page cache
// as the floor finds them in memory. What the cache keeps between runs varies (a host
// that reclaims a VM's cache takes most of a corpus within minutes), and a slope would
// then measure the disk. Files that together exceed half the machine's memory are not
// read: the cache could not keep them. Returns the share of the files' pages cached.
double warm_page_cache(const std::vector<fs::path>& files) {
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const auto memory = static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) * page;
    std::vector<std::uint64_t> sizes;
    std::uint64_t total = 0;
    std::uint64_t pages = 0;
    for (const auto& file : files) {
        sizes.push_back(fs::file_size(file));
        total += sizes.back();
        pages += (sizes.back() + page - 1) / page;
    }
    if (total <= memory / 2) {
        std::vector<std::uint8_t> buffer(std::size_t{1} << 20);
        for (const auto& file : files) {
            const UniqueFd fd = open_checked(file, O_RDONLY);
            std::uint64_t offset = 0;
            while (const std::size_t got = read_at(fd.get(), buffer, offset, file)) offset += got;
        }
    }
    std::uint64_t cached = 0;
    for (std::size_t i = 0; i < files.size(); ++i) cached += cached_pages(files[i], sizes[i]);
    return pages == 0 ? 1.0 : static_cast<double>(cached) / static_cast<double>(pages);
}

// The converter's output of one bench run, removed once measured (it is the bench's own:
// only synshard's files, spooled to the work folder's scratch).
void remove_bench_output(const BenchOptions& options, const fs::path& output) {
    convert::remove_output_folder(
        {canonical_path(output), canonical_path(options.work_dir / "scratch"), {}});
}

// `inputs`: the corpus options (corpus_args).
ConvertResult run_convert(const BenchOptions& options, std::vector<std::string> inputs, int ranks,
                          const std::string& name) {
    ConvertResult result;
    result.cached_share = warm_page_cache(files_named_by(inputs));
    result.output = options.work_dir / ("out-" + name);
    const fs::path stats = options.work_dir / ("stats-" + name + ".json");
    fs::remove(stats);
    auto args = std::move(inputs);
    const std::vector<std::string> rest{"--output",  result.output.string(),
                                        "--scratch", (options.work_dir / "scratch").string(),
                                        "--restart", "--quiet",
                                        "--seed",    std::to_string(options.seed),
                                        "--resize",  kResize,
                                        "--quality", std::to_string(kQuality),
                                        "--stats",   stats.string()};
    args.insert(args.begin(), "convert");
    args.insert(args.end(), rest.begin(), rest.end());
    const auto command = mpi_command(find_mpi_launcher(), ranks, options.program, args);
    const std::string at_ranks = "at " + count_of(static_cast<std::uint64_t>(ranks), "rank");
    log::info("bench: convert " + name + " " + at_ranks);
    result.child = run_child(command);
    check_exit(result.child, "convert " + at_ranks);
    const auto bytes = read_file(stats);
    result.stats = Json::parse(bytes.begin(), bytes.end());
    return result;
}

std::uint64_t stored_images(const manifest::Manifest& manifest) {
    std::uint64_t images = 0;
    for (const auto& [name, split] : manifest.splits) images += split.num_samples;
    return images;
}

std::uint64_t size_of(const fs::path& path) {
    return fs::is_regular_file(path) ? fs::file_size(path) : 0;
}

// The corpus's train and val images, by path.
std::vector<fs::path> corpus_images(const fs::path& corpus) {
    std::vector<fs::path> paths;
    for (const char* split : {"train", "val"}) {
        for (const auto& entry : fs::recursive_directory_iterator(corpus / split)) {
            if (entry.is_regular_file() && entry.path().extension() == ".JPEG")
                paths.push_back(entry.path());
        }
    }
    std::sort(paths.begin(), paths.end());
    return paths;
}

// The converter runs and the loops on an ImageNet-like corpus of about `images`.
struct Comparison {
    CorpusSummary corpus;
    Measurements measurements;
    bool identical_shards = true;
};

Comparison measure_comparison(const BenchOptions& options, std::uint64_t images) {
    Comparison comparison;
    CorpusSummary& corpus = comparison.corpus;
    corpus.path = options.work_dir / ("corpus-" + std::to_string(images));
    CorpusRequest request{
        corpus.path, options.classes, images, options.large_fraction, options.seed, ""};
    corpus.synth_seconds = ensure_corpus(request);
    corpus.reused = corpus.synth_seconds == 0;

    Measurements& measurements = comparison.measurements;
    std::optional<manifest::Manifest> first;
    const auto converter_run = [&](int ranks) {
        auto result =
            run_convert(options, corpus_args(corpus.path, true), ranks, std::to_string(ranks));
        ConverterRun run = converter_run_from_stats(result.stats);
        run.wall_seconds = result.child.wall_seconds;
        run.cached_share = result.cached_share;
        const auto manifest = manifest::read_manifest(result.output / manifest::kManifestFileName);
        run.images = stored_images(manifest);
        run.output_bytes = size_of(result.output / manifest::kManifestFileName) +
                           size_of(result.output / "index.h5");
        for (const auto& [name, split] : manifest.splits) {
            for (const auto& shard : split.shards) {
                run.output_bytes += size_of(result.output / shard.path);
                run.payload_bytes +=
                    reader::ShardReader(result.output / shard.path).scan_image_data();
            }
        }
        if (first) {
            comparison.identical_shards =
                comparison.identical_shards && manifest::compare_shards(*first, manifest).empty();
        } else {
            first = manifest;
        }
        remove_bench_output(options, result.output);
        return run;
    };
    measurements.runs.resize(options.ranks.size());
    for (int repetition = 0; repetition < kComparisonRepetitions; ++repetition) {
        for (std::size_t i = 0; i < options.ranks.size(); ++i) {
            ConverterRun run = converter_run(options.ranks[i]);
            if (repetition == 0 || run.wall_seconds < measurements.runs[i].wall_seconds)
                measurements.runs[i] = std::move(run);
        }
    }

    // The same files, in memory, through one thread.
    std::vector<std::vector<std::uint8_t>> files;
    for (const auto& path : corpus_images(corpus.path)) {
        files.push_back(read_file(path));
        corpus.bytes += files.back().size();
    }
    corpus.files = files.size();
    if (files.empty()) throw Error(corpus.path.string() + " holds no images");

    log::info("bench: floor loop over " + std::to_string(files.size()) + " images");
    image::PipelineOptions pipeline_options;
    pipeline_options.resize = image::parse_resize(kResize);
    pipeline_options.quality = kQuality;
    for (int repetition = 0; repetition < kComparisonRepetitions; ++repetition) {
        image::Pipeline pipeline(pipeline_options);
        corpus.max_pixels = 0;
        corpus.large_images = 0;
        const auto start = Clock::now();
        for (const auto& file : files) {
            const auto result = pipeline.process(file, {});
            if (const auto* image = std::get_if<image::ProcessedImage>(&result)) {
                const auto pixels = static_cast<std::uint64_t>(image->source_width) *
                                    static_cast<std::uint64_t>(image->source_height);
                corpus.max_pixels = std::max(corpus.max_pixels, pixels);
                corpus.large_images += pixels > 1'000'000 ? 1 : 0;
            }
        }
        const double seconds = seconds_since(start);
        if (repetition > 0 && seconds >= measurements.floor.seconds) continue;
        measurements.floor.seconds = seconds;
        const auto& stages = pipeline.stage_times();
        measurements.floor.images = stages.images;
        measurements.floor.decode_seconds = stages.decode_seconds;
        measurements.floor.source_pixels = stages.source_pixels;
    }

    log::info("bench: naive loop over " + std::to_string(files.size()) + " images");
    cv::setNumThreads(1);
    const auto start = Clock::now();
    for (const auto& file : files) {
        if (!naive_resize_encode(file, pipeline_options.resize, kQuality).empty())
            ++measurements.naive.images;
    }
    measurements.naive.seconds = seconds_since(start);

    // Each image's digests are timed right after its pipeline runs (untimed): the order the
    // converter takes them in, so that they find the caches as the converter's digests do.
    log::info("bench: digest loop over " + std::to_string(files.size()) + " images");
    image::Pipeline pipeline(pipeline_options);
    for (const auto& file : files) {
        const auto result = pipeline.process(file, {});
        const auto digests_start = Clock::now();
        sha256(file);
        if (const auto* image = std::get_if<image::ProcessedImage>(&result)) sha256(image->data);
        measurements.digests.seconds += seconds_since(digests_start);
        ++measurements.digests.images;
    }
    return comparison;
}

// converter@1 on the comparison corpus of `images` (made or reused) and on its twin in the
// archives layout, alternated; the gzip index's pass timed in process.
ArchiveRun measure_archives(const BenchOptions& options, std::uint64_t images,
                            bool& identical_shards) {
    const fs::path folders = options.work_dir / ("corpus-" + std::to_string(images));
    const fs::path archives = folders.string() + "-archives";
    ensure_corpus({folders, options.classes, images, options.large_fraction, options.seed, ""});
    ensure_corpus({archives, options.classes, images, options.large_fraction, options.seed, "",
                   synth::Layout::archives});
    const fs::path tar = archives / synth::kTrainArchive;
    const fs::path gzipped = archives / synth::kGzippedTrainArchive;
    const fs::path index = options.work_dir / ("archives-" + std::to_string(images) + ".index");

    ArchiveRun run;
    fs::remove(index);
    const auto start = Clock::now();
    run.compressed_bytes =
        corpus::load_or_build_gzip_index(gzipped, index, "--input").compressed_size;
    run.index_seconds = seconds_since(start);

    const auto archive_args = [&](const fs::path& train) {
        return std::vector<std::string>{
            "--input",      train.string(),
            "--val-input",  (archives / synth::kValArchive).string(),
            "--val-labels", (archives / "LOC_val_solution.csv").string()};
    };
    auto gzip_args = archive_args(gzipped);
    gzip_args.insert(gzip_args.end(), {"--archive-index", index.string()});
    const std::vector<std::pair<std::vector<std::string>, double ArchiveRun::*>> layouts{
        {corpus_args(folders, false), &ArchiveRun::folders_seconds},
        {archive_args(tar), &ArchiveRun::tar_seconds},
        {gzip_args, &ArchiveRun::gzip_seconds}};
    std::optional<manifest::Manifest> first;
    for (int round = 0; round < kArchiveRepetitions; ++round) {
        for (const auto& [inputs, seconds] : layouts) {
            const auto result = run_convert(options, inputs, 1, "archives");
            const auto manifest =
                manifest::read_manifest(result.output / manifest::kManifestFileName);
            if (first) {
                identical_shards =
                    identical_shards && manifest::compare_shards(*first, manifest).empty();
            } else {
                first = manifest;
                run.images = stored_images(manifest);
            }
            const double wall = result.child.wall_seconds;
            run.*seconds = round == 0 ? wall : std::min(run.*seconds, wall);
            remove_bench_output(options, result.output);
        }
    }
    return run;
}

// ILSVRC2012_img_train.tar's shape for the header walk: 1,000 inner tars, each further from
// the next than the kernel's read-ahead, so that a cold walk reads every header from disk.
constexpr std::uint64_t kOuterMembers = 1000;
constexpr std::size_t kInnerTarBytes = std::size_t{256} << 10;

// The outer tar's header walk, warm and then cold: its pages dropped with
// posix_fadvise(DONTNEED), which needs no privilege and leaves other files cached.
OuterWalk measure_outer_walk(const BenchOptions& options) {
    const fs::path tar = options.work_dir / ("outer-" + std::to_string(kOuterMembers) + ".tar");
    if (!fs::exists(tar)) {
        const fs::path temporary = temporary_path_for(tar);
        {
            synth::TarWriter writer(temporary);
            const std::vector<std::uint8_t> inner(kInnerTarBytes, 0);  // an empty tar
            for (std::uint64_t i = 0; i < kOuterMembers; ++i) {
                char name[16];
                std::snprintf(name, sizeof name, "n%08llu.tar", static_cast<unsigned long long>(i));
                writer.add(name, inner);
            }
            writer.close();
        }
        fs::rename(temporary, tar);
    }
    const auto walk = [&] {
        corpus::FileByteSource source(tar);
        const auto start = Clock::now();
        const auto members = corpus::walk_outer_tar(source).members.size();
        return std::pair(members, seconds_since(start));
    };
    OuterWalk result;
    walk();  // the warm walk's pages, cached
    std::tie(result.members, result.warm_seconds) = walk();
    {
        const UniqueFd fd = open_checked(tar, O_RDONLY);
        if (const int error = ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED); error != 0)
            throw_system_error("dropping the cached pages of " + tar.string(), error);
    }
    result.cold_seconds = walk().second;
    return result;
}

// At most tiny_classes, and no fewer than ~200 images a class (small --scale runs).
int tiny_classes_for(const BenchOptions& options, std::uint64_t images) {
    return static_cast<int>(std::clamp<std::uint64_t>(
        images / 200, 1, static_cast<std::uint64_t>(options.tiny_classes)));
}

// plan, then convert at `ranks`, on a corpus of tiny images (made or reused).
ScaleRun scale_run(const BenchOptions& options, const std::string& name, int classes,
                   std::uint64_t images, int ranks) {
    const fs::path corpus = options.work_dir / name;
    ensure_corpus({corpus, classes, images, 0.0, options.seed, options.tiny_size});

    ScaleRun run;
    run.ranks = ranks;
    auto plan_args = corpus_args(corpus, true);
    plan_args.insert(plan_args.begin(), {options.program.string(), "plan"});
    plan_args.insert(plan_args.end(), {"--seed", std::to_string(options.seed)});
    log::info("bench: plan " + name);
    const auto plan = run_child(plan_args);
    check_exit(plan, "plan of " + name);
    run.plan_seconds = plan.wall_seconds;
    run.plan_peak_rss_bytes = plan.peak_rss_bytes;

    const auto result = run_convert(options, corpus_args(corpus, true), ranks, name);
    const auto& root = result.stats.at("per_rank").at(0);
    run.root_peak_rss_bytes = root.at("peak_rss_bytes").get<std::uint64_t>();
    for (const auto& [phase, seconds] : root.at("phases").items())
        run.phase_seconds[phase] = seconds.get<double>();
    const auto manifest = manifest::read_manifest(result.output / manifest::kManifestFileName);
    run.images = stored_images(manifest);
    run.manifest_bytes =
        size_of(result.output / manifest::kManifestFileName) + size_of(result.output / "index.h5");
    remove_bench_output(options, result.output);
    return run;
}

void measure_scale(const BenchOptions& options, BenchReport& report) {
    const int ranks = *std::max_element(options.ranks.begin(), options.ranks.end());
    // The start-up: a corpus with the smallest scale corpus's classes and a handful of
    // images each, run a few times; each time's minimum, as noise only adds.
    const std::uint64_t smallest = *std::min_element(options.scale.begin(), options.scale.end());
    const int classes = tiny_classes_for(options, smallest);
    const std::uint64_t startup_images =
        std::max<std::uint64_t>(2 * static_cast<std::uint64_t>(classes), 20);
    const std::string startup_name = "tiny-startup-" + std::to_string(classes);
    std::optional<ScaleRun> startup;
    for (int repetition = 0; repetition < kStartupRepetitions; ++repetition) {
        ScaleRun run = scale_run(options, startup_name, classes, startup_images, ranks);
        if (!startup) {
            startup = std::move(run);
            continue;
        }
        startup->plan_seconds = std::min(startup->plan_seconds, run.plan_seconds);
        for (auto& [phase, seconds] : startup->phase_seconds) {
            const auto found = run.phase_seconds.find(phase);
            if (found != run.phase_seconds.end()) seconds = std::min(seconds, found->second);
        }
    }
    report.scale_startup = startup;
    for (const auto images : options.scale) {
        report.scale.push_back(scale_run(options, "tiny-" + std::to_string(images),
                                         tiny_classes_for(options, images), images, ranks));
    }
}

}  // namespace

void validate(const BenchOptions& options) {
    if (options.work_dir.empty()) throw UsageError("--work-dir must not be empty");
    if (options.ranks.empty()) throw UsageError("--ranks: name at least one rank count");
    for (const int ranks : options.ranks) {
        if (ranks < 1) throw UsageError("--ranks: rank counts must be at least 1");
    }
    const auto two_per_class = 2 * static_cast<std::uint64_t>(options.classes);
    if (options.images != 0 && options.images < two_per_class)
        throw UsageError("--images must be 0 (no comparison) or at least two per class");
    if (options.images != 0 && options.slope_images != 0) {
        if (options.slope_images < two_per_class)
            throw UsageError("--images: the smaller corpus needs at least two images per class");
        if (options.slope_images >= options.images)
            throw UsageError("--images: name the smaller corpus first, e.g. 1000,3000");
    }
    for (const auto images : options.scale) {
        if (images < kMinScaleImages || images > kMaxScaleImages) {
            throw UsageError("--scale: " + std::to_string(images) + " is not in " +
                             std::to_string(kMinScaleImages) + ".." +
                             std::to_string(kMaxScaleImages) + " images");
        }
    }
    if (!options.scale.empty()) synth::parse_image_size(options.tiny_size);
    if (options.images == 0 && options.scale.empty())
        throw UsageError("nothing to measure: --images 0 and no --scale");
}

BenchReport run_bench(const BenchOptions& options, const Targets& targets) {
    BenchReport report;
    fs::create_directories(options.work_dir);
    if (options.images != 0) {
        if (options.slope_images != 0) {
            auto small = measure_comparison(options, options.slope_images);
            report.slope_corpus = small.corpus;
            report.slope_measurements = std::move(small.measurements);
            report.identical_shards = small.identical_shards;
        }
        auto large = measure_comparison(options, options.images);
        report.corpus = large.corpus;
        report.measurements = std::move(large.measurements);
        report.identical_shards = report.identical_shards && large.identical_shards;
        report.figures = compare(report.measurements, targets);
        if (report.slope_corpus) {
            report.slope_figures =
                slope_figures(report.slope_measurements, report.measurements, targets);
        }
    }
    if (options.archives && options.images != 0) {
        for (const auto images : {options.slope_images, options.images}) {
            if (images != 0)
                report.archive_runs.push_back(
                    measure_archives(options, images, report.archive_identical_shards));
        }
        report.outer_walk = measure_outer_walk(options);
        report.archive_figures = archive_figures(report.archive_runs, report.outer_walk, targets);
    }
    if (!options.scale.empty()) {
        measure_scale(options, report);
        report.scale_figures = scale_figures(report.scale, report.scale_startup, targets);
    }
    return report;
}

}  // namespace synshard::bench
