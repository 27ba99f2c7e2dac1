// Images per second (one thread) of the per-image pipeline against the naive OpenCV path
// (cv::imdecode + cv::resize INTER_AREA + cv::imencode q90), at shorter:256 / JPEG q90,
// on the same in-memory photo-like JPEGs; prints the ratio for each image size.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <opencv2/core/utility.hpp>
#include <set>
#include <string>
#include <vector>

#include "image/image_samples.hpp"
#include "synshard/bench/naive.hpp"
#include "synshard/image/pipeline.hpp"

namespace {

using synshard::testing::ByteVector;
namespace image = synshard::image;

struct ImageSet {
    const char* name;
    int width;
    int height;
    int count;
};

constexpr ImageSet kSets[] = {{"imagenet_500x375", 500, 375, 8},
                              {"large_2000x1500", 2000, 1500, 4}};

const std::vector<ByteVector>& jpegs(const ImageSet& set) {
    static std::map<std::string, std::vector<ByteVector>> cache;
    auto& files = cache[set.name];
    if (files.empty()) {
        for (int i = 0; i < set.count; ++i) {
            // Noise sigma 23 brings the ImageNet-sized files to ImageNet's ~110 KB.
            files.push_back(synshard::testing::encode_jpeg(
                synshard::testing::photo_like(set.width, set.height, 1000 + i, 23), 90));
        }
    }
    return files;
}

void report_input_size(benchmark::State& state, const std::vector<ByteVector>& files) {
    double bytes = 0;
    for (const auto& file : files) bytes += static_cast<double>(file.size());
    state.counters["input_kB"] = bytes / static_cast<double>(files.size()) / 1000;
    state.SetItemsProcessed(state.iterations());
}

void pipeline_path(benchmark::State& state, const ImageSet& set) {
    const auto& files = jpegs(set);
    image::PipelineOptions options;
    options.resize = image::parse_resize("shorter:256");
    options.encoding = image::Encoding::jpeg;
    options.quality = 90;
    image::Pipeline pipeline(options);
    std::size_t next = 0;
    for (auto _ : state) {
        auto result = pipeline.process(files[next++ % files.size()], {});
        if (!std::holds_alternative<image::ProcessedImage>(result)) {
            state.SkipWithError("pipeline rejected a benchmark image");
            break;
        }
        benchmark::DoNotOptimize(result);
    }
    report_input_size(state, files);
}

void naive_path(benchmark::State& state, const ImageSet& set) {
    const auto& files = jpegs(set);
    const auto resize = image::parse_resize("shorter:256");
    std::size_t next = 0;
    for (auto _ : state) {
        auto encoded =
            synshard::bench::naive_resize_encode(files[next++ % files.size()], resize, 90);
        benchmark::DoNotOptimize(encoded);
    }
    report_input_size(state, files);
}

// Prints as usual and keeps each benchmark's items/s for the closing ratios: the median
// when it ran with --benchmark_repetitions, else its single run.
class RatioReporter : public benchmark::ConsoleReporter {
  public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& run : runs) {
            const auto found = run.counters.find("items_per_second");
            if (found == run.counters.end()) continue;
            const std::string& name = run.run_name.function_name;
            if (run.run_type == Run::RT_Aggregate) {
                if (run.aggregate_name != "median") continue;
                medians.insert(name);
            } else if (medians.count(name) != 0) {
                continue;
            }
            rates[name] = found->second.value;
        }
    }
    std::map<std::string, double> rates;

  private:
    std::set<std::string> medians;
};

}  // namespace

int main(int argc, char** argv) {
    cv::setNumThreads(1);
    for (const ImageSet& set : kSets) {
        benchmark::RegisterBenchmark((std::string("pipeline/") + set.name).c_str(), pipeline_path,
                                     set)
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark((std::string("naive/") + set.name).c_str(), naive_path, set)
            ->Unit(benchmark::kMillisecond);
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    for (const ImageSet& set : kSets) {
        const auto ours = reporter.rates.find(std::string("pipeline/") + set.name);
        const auto naive = reporter.rates.find(std::string("naive/") + set.name);
        if (ours == reporter.rates.end() || naive == reporter.rates.end()) continue;
        std::printf("%s: pipeline %.1f images/s, naive %.1f images/s per core: %.2fx\n", set.name,
                    ours->second, naive->second, ours->second / naive->second);
    }
    benchmark::Shutdown();
    return 0;
}
