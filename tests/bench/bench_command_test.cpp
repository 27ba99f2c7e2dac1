#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::bench {
namespace {

using testing::run_synshard;
using testing::run_synshard_mpi;

// One small run of everything: the comparison at 1 and 2 ranks on two corpus sizes (for
// the slopes) and two scale corpora. Checks that every figure is there and that the
// measurements agree with each other; never how fast anything was.
TEST(BenchCommand, WritesEveryFigureConsistently) {
    testing::TempDir dir;
    const auto json_path = dir / "bench.json";
    const auto result = run_synshard({"bench", "--work-dir", (dir / "work").string(), "--images",
                                      "30,60", "--classes", "4", "--ranks", "1,2", "--scale",
                                      "100,200", "--json", json_path.string()});
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("converter@2 / floor"), std::string::npos) << result.output;
    // Each converter run of the comparison twice on each corpus, the faster kept.
    for (const std::string run :
         {"bench: convert 1 at 1 rank\n", "bench: convert 2 at 2 ranks\n"}) {
        std::size_t runs = 0;
        for (auto at = result.output.find(run); at != std::string::npos;
             at = result.output.find(run, at + 1))
            ++runs;
        EXPECT_EQ(runs, 4u) << run << result.output;
    }
    const auto bytes = read_file(json_path);
    const auto json = nlohmann::json::parse(bytes.begin(), bytes.end());

    const auto& corpus = json.at("corpus");
    const std::uint64_t images = corpus.at("images");
    EXPECT_GE(images, 40u);
    EXPECT_FALSE(corpus.at("reused").get<bool>());
    EXPECT_GT(corpus.at("mean_file_bytes").get<double>(), 1000.0);
    EXPECT_LE(corpus.at("max_pixels").get<std::uint64_t>(), 12'000'000u);

    // The converter stored every image the loops processed, at both rank counts, and the
    // shards are the same bytes.
    EXPECT_EQ(json.at("floor").at("images"), images);
    EXPECT_EQ(json.at("naive").at("images"), images);
    EXPECT_EQ(json.at("digests").at("images"), images);
    EXPECT_GT(json.at("digests").at("seconds").get<double>(), 0.0);
    EXPECT_TRUE(json.at("identical_shards").get<bool>());
    ASSERT_EQ(json.at("runs").size(), 2u);
    for (const auto& run : json.at("runs")) {
        const int ranks = run.at("ranks");
        EXPECT_EQ(run.at("images"), images);
        EXPECT_EQ(run.at("peak_rss_bytes").size(), static_cast<std::size_t>(ranks));
        for (const auto& rss : run.at("peak_rss_bytes")) EXPECT_GT(rss.get<std::uint64_t>(), 0u);
        EXPECT_GT(run.at("output_bytes").get<std::uint64_t>(),
                  run.at("payload_bytes").get<std::uint64_t>());
        EXPECT_GT(run.at("payload_bytes").get<std::uint64_t>(), 0u);
        EXPECT_GT(run.at("source_pixels").get<std::uint64_t>(), 0u);
        double shares = 0;
        for (const auto& [phase, share] : run.at("phase_shares").items()) {
            EXPECT_GE(share.get<double>(), 0.0) << phase;
            shares += share.get<double>();
        }
        EXPECT_NEAR(shares, 1.0, 1e-6);
        for (const char* phase : {"scan", "decode", "resize", "encode", "exchange", "write"}) {
            EXPECT_GT(run.at("phase_seconds").at(phase).get<double>(), 0.0) << phase;
        }
    }

    const auto& figures = json.at("figures");
    for (const char* key :
         {"floor_per_core", "naive_per_core", "converter_1_per_core", "converter_2_per_core",
          "converter_1_vs_floor", "converter_2_vs_floor", "converter_1_vs_naive",
          "converter_2_vs_naive", "scaling_1_to_2", "converter_1_peak_rss", "converter_2_peak_rss",
          "converter_1_output_overhead", "converter_2_output_overhead",
          "converter_1_decode_mpixels", "converter_2_decode_mpixels", "floor_decode_mpixels"}) {
        ASSERT_TRUE(figures.contains(key)) << key;
        const auto& figure = figures.at(key);
        EXPECT_GT(figure.at("value").get<double>(), 0.0) << key;
        const std::string target = figure.at("target");
        const std::string verdict = figure.at("verdict");
        EXPECT_EQ(target.empty(), verdict.empty()) << key;
        if (!verdict.empty()) {
            EXPECT_TRUE(verdict == "PASS" || verdict == "MISS") << key;
        }
    }
    const double floor_rate = figures.at("floor_per_core").at("value");
    EXPECT_NEAR(figures.at("converter_1_vs_floor").at("value").get<double>(),
                figures.at("converter_1_per_core").at("value").get<double>() / floor_rate, 1e-9);

    // The slopes: the same paths on a smaller corpus of the same parameters.
    const auto& slope = json.at("slope");
    const std::uint64_t small_images = slope.at("corpus").at("images");
    EXPECT_GT(small_images, 0u);
    EXPECT_LT(small_images, images);
    EXPECT_EQ(slope.at("floor").at("images"), small_images);
    EXPECT_EQ(slope.at("naive").at("images"), small_images);
    EXPECT_EQ(slope.at("digests").at("images"), small_images);
    ASSERT_EQ(slope.at("runs").size(), 2u);
    for (const auto& run : slope.at("runs")) EXPECT_EQ(run.at("images"), small_images);
    const auto& slopes = slope.at("figures");
    for (const char* key :
         {"slope_floor", "slope_naive", "slope_floor_vs_naive", "slope_converter_1",
          "slope_overhead", "slope_converter_1_vs_floor", "slope_converter_1_peak_rss",
          "slope_converter_2", "slope_scaling_1_to_2", "slope_converter_2_peak_rss",
          "slope_overhead_outside_pipeline", "slope_overhead_pipeline_vs_floor",
          "slope_overhead_around_rank", "slope_digests"}) {
        EXPECT_TRUE(slopes.contains(key)) << key;
    }
    // Slopes are differences: on corpora this small, noise may make them any sign, but
    // they are what the two runs' times say.
    const double floor_slope = (json.at("floor").at("seconds").get<double>() -
                                slope.at("floor").at("seconds").get<double>()) *
                               1e3 / static_cast<double>(images - small_images);
    EXPECT_NEAR(slopes.at("slope_floor").at("value").get<double>(), floor_slope, 1e-9);
    const double digests_slope = (json.at("digests").at("seconds").get<double>() -
                                  slope.at("digests").at("seconds").get<double>()) *
                                 1e3 / static_cast<double>(images - small_images);
    EXPECT_NEAR(slopes.at("slope_digests").at("value").get<double>(), digests_slope, 1e-9);
    EXPECT_NEAR(slopes.at("slope_overhead").at("value").get<double>(),
                slopes.at("slope_converter_1").at("value").get<double>() - floor_slope, 1e-9);
    // The converter's part outside its pipeline: its rank's clock less the stage clocks
    // the runs' phase tables give.
    const auto outside_pipeline = [](const nlohmann::json& run) {
        const auto& phases = run.at("phase_seconds");
        double stages = 0;
        for (const char* stage : {"decode", "resize", "stats", "encode"})
            stages += phases.at(stage).get<double>();
        return run.at("rank_seconds").get<double>() - stages;
    };
    ASSERT_EQ(json.at("runs").at(0).at("ranks"), 1);
    ASSERT_EQ(slope.at("runs").at(0).at("ranks"), 1);
    const double outside_slope =
        (outside_pipeline(json.at("runs").at(0)) - outside_pipeline(slope.at("runs").at(0))) * 1e3 /
        static_cast<double>(images - small_images);
    EXPECT_NEAR(slopes.at("slope_overhead_outside_pipeline").at("value").get<double>(),
                outside_slope, 1e-9);
    double parts = 0;
    for (const char* key : {"slope_overhead_outside_pipeline", "slope_overhead_pipeline_vs_floor",
                            "slope_overhead_around_rank"})
        parts += slopes.at(key).at("value").get<double>();
    EXPECT_NEAR(parts, slopes.at("slope_overhead").at("value").get<double>(), 1e-9);
    EXPECT_NE(result.output.find("overhead"), std::string::npos) << result.output;

    const auto& scale = json.at("scale");
    ASSERT_EQ(scale.at("runs").size(), 2u);
    // Synth gives each class 0.5x..1.5x of its mean: about the images asked for.
    const std::uint64_t small = scale.at("runs").at(0).at("images");
    const std::uint64_t large = scale.at("runs").at(1).at("images");
    EXPECT_GT(small, 0u);
    EXPECT_GT(large, small);
    const std::uint64_t startup = scale.at("startup").at("images");
    EXPECT_GT(startup, 0u);
    EXPECT_LT(startup, small);
    for (const std::string& key :
         {"scale_" + std::to_string(small) + "_plan_command",
          "scale_" + std::to_string(large) + "_convert_process",
          "scale_" + std::to_string(large) + "_root_rss", std::string("scale_ratio_root_rss"),
          std::string("scale_ratio_plan_rss"), std::string("scale_startup_plan_command"),
          std::string("scale_startup_convert_total")}) {
        ASSERT_TRUE(scale.at("figures").contains(key)) << key;
        EXPECT_GT(scale.at("figures").at(key).at("value").get<double>(), 0.0) << key;
    }
    // Times beyond the start-up are differences: on corpora this small, noise may make
    // them any sign, so only their presence is checked.
    for (const std::string& key :
         {"scale_" + std::to_string(large) + "_convert_total_beyond_startup",
          std::string("scale_ratio_convert_total"), std::string("scale_ratio_plan_command")}) {
        EXPECT_TRUE(scale.at("figures").contains(key)) << key;
    }

    // A second run on the same parameters reuses the corpus.
    const auto again =
        run_synshard({"bench", "--work-dir", (dir / "work").string(), "--images", "60", "--classes",
                      "4", "--ranks", "1", "--json", json_path.string()});
    ASSERT_EQ(again.exit_code, 0) << again.output;
    const auto again_bytes = read_file(json_path);
    const auto again_json = nlohmann::json::parse(again_bytes.begin(), again_bytes.end());
    EXPECT_TRUE(again_json.at("corpus").at("reused").get<bool>());
    EXPECT_EQ(again_json.at("corpus").at("images"), images);
}

// The corpus's files, and how many of their pages the page cache holds.
struct CorpusPages {
    std::vector<std::filesystem::path> files;
    std::uint64_t pages = 0;
    std::uint64_t cached = 0;
};

CorpusPages corpus_pages(const std::filesystem::path& corpus) {
    CorpusPages pages;
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    for (const auto& entry : std::filesystem::recursive_directory_iterator(corpus)) {
        if (!entry.is_regular_file() || entry.path().extension() != ".JPEG") continue;
        pages.files.push_back(entry.path());
        pages.pages += (entry.file_size() + page - 1) / page;
        pages.cached += cached_pages(entry.path(), entry.file_size());
    }
    return pages;
}

// What the page cache holds of a corpus varies between runs (a host that reclaims a VM's
// cache takes most of it within minutes): the converter must find it read, as the floor
// does, or its slope measures the disk.
TEST(BenchCommand, StartsEachConverterRunWithTheCorpusInThePageCache) {
    testing::TempDir dir;
    const auto json_path = dir / "bench.json";
    const std::vector<std::string> command{"bench",
                                           "--work-dir",
                                           (dir / "work").string(),
                                           "--images",
                                           "40",
                                           "--classes",
                                           "4",
                                           "--ranks",
                                           "1,2",
                                           "--json",
                                           json_path.string()};
    ASSERT_EQ(run_synshard(command).exit_code, 0);

    const auto corpus = dir / "work" / "corpus-40";
    const auto before = corpus_pages(corpus);
    ASSERT_GT(before.pages, 0u);
    for (const auto& file : before.files) {
        const UniqueFd fd = open_checked(file, O_RDONLY);
        ASSERT_EQ(::fdatasync(fd.get()), 0) << file;
        ASSERT_EQ(::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED), 0) << file;
    }
    const auto dropped = corpus_pages(corpus);
    if (dropped.cached * 2 > dropped.pages) {
        GTEST_SKIP() << dir.path() << "'s file system keeps a file's pages after "
                     << "posix_fadvise(DONTNEED), as tmpfs does (" << dropped.cached << " of "
                     << dropped.pages << " still cached): this test needs the corpus out of "
                     << "the page cache";
    }

    const auto result = run_synshard(command);
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const auto bytes = read_file(json_path);
    const auto json = nlohmann::json::parse(bytes.begin(), bytes.end());
    EXPECT_TRUE(json.at("corpus").at("reused").get<bool>());
    ASSERT_EQ(json.at("runs").size(), 2u);
    for (const auto& run : json.at("runs")) {
        EXPECT_EQ(run.at("corpus_cached_share").get<double>(), 1.0) << run.dump();
    }
    EXPECT_NE(result.output.find("100% of its inputs in the page cache"), std::string::npos)
        << result.output;
}

TEST(BenchCommand, BadValuesAndMpirunAreUsageErrors) {
    testing::TempDir dir;
    const auto work = (dir / "work").string();
    for (const std::vector<std::string>& args : {std::vector<std::string>{"--ranks", "0"},
                                                 {"--ranks", "1,x"},
                                                 {"--classes", "0"},
                                                 {"--images", "0"},
                                                 {"--scale", "10"},
                                                 {"--images", "3", "--classes", "2"},
                                                 {"--images", "60,30", "--classes", "4"},
                                                 {"--images", "30,60,90"}}) {
        std::vector<std::string> command{"bench", "--work-dir", work};
        command.insert(command.end(), args.begin(), args.end());
        const auto result = run_synshard(command);
        EXPECT_EQ(result.exit_code, 2) << args.at(1) << result.output;
    }
    const auto under_mpirun = run_synshard_mpi(2, {"bench", "--work-dir", work});
    EXPECT_EQ(under_mpirun.exit_code, 2) << under_mpirun.output;
    EXPECT_NE(under_mpirun.output.find("plain process"), std::string::npos) << under_mpirun.output;
    EXPECT_FALSE(std::filesystem::exists(work));
}

}  // namespace
}  // namespace synshard::bench
