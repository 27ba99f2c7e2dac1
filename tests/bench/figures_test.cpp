#include "synshard/bench/figures.hpp"

#include <gtest/gtest.h>

#include "synshard/util/error.hpp"

namespace synshard::bench {
namespace {

// What `convert --stats` writes for one rank.
Json rank_stats(int rank, double seconds, std::uint64_t rss, const Json& phases) {
    return {{"rank", rank},
            {"seconds", seconds},
            {"peak_rss_bytes", rss},
            {"phases", phases},
            {"write_exchange_seconds", 0.5},
            {"stages",
             {{"decode", 3.0},
              {"resize", 1.0},
              {"encode", 2.0},
              {"stats", 0.25},
              {"images", 100},
              {"source_pixels", 18'750'000}}}};
}

const Json kRootPhases = {{"plan", 1.0},  {"process", 7.0},  {"dedup", 0.25}, {"assign", 0.25},
                          {"write", 1.5}, {"manifest", 0.5}, {"total", 11.0}};
// A non-root rank's phases: no manifest and no total (the root alone writes those).
const Json kOtherPhases = {
    {"plan", 1.0}, {"process", 7.0}, {"dedup", 0.25}, {"assign", 0.25}, {"write", 1.5}};

const Figure& find(const std::vector<Figure>& figures, const std::string& key) {
    for (const auto& figure : figures) {
        if (figure.key == key) return figure;
    }
    throw std::runtime_error("no figure " + key);
}

void expect_figure(const std::vector<Figure>& figures, const std::string& key, double value,
                   Verdict verdict) {
    const Figure& figure = find(figures, key);
    EXPECT_NEAR(figure.value, value, 1e-6) << key;
    EXPECT_EQ(figure.verdict, verdict) << key;
}

TEST(BenchFigures, StatsMapToThePhasesOfTheTable) {
    const Json stats = {{"ranks", 2},
                        {"exit_code", 0},
                        {"per_rank",
                         {rank_stats(0, 12.0, 100 << 20, kRootPhases),
                          rank_stats(1, 11.0, 90 << 20, kOtherPhases)}}};
    const ConverterRun run = converter_run_from_stats(stats);
    EXPECT_EQ(run.ranks, 2);
    EXPECT_EQ(run.peak_rss_bytes, (std::vector<std::uint64_t>{100 << 20, 90 << 20}));
    EXPECT_DOUBLE_EQ(run.rank_seconds, 23.0);
    EXPECT_DOUBLE_EQ(run.decode_seconds, 6.0);
    EXPECT_EQ(run.source_pixels, 37'500'000u);
    EXPECT_DOUBLE_EQ(run.phase_seconds.at("scan"), 2.0);
    EXPECT_DOUBLE_EQ(run.phase_seconds.at("decode"), 6.0);
    EXPECT_DOUBLE_EQ(run.phase_seconds.at("resize"), 2.0);
    EXPECT_DOUBLE_EQ(run.phase_seconds.at("encode"), 4.0);
    EXPECT_DOUBLE_EQ(run.phase_seconds.at("stats"), 0.5);      // the pixel sums
    EXPECT_DOUBLE_EQ(run.phase_seconds.at("read+hash"), 1.5);  // 2 x (7 - 6 - 0.25)
    EXPECT_DOUBLE_EQ(run.phase_seconds.at("exchange"), 2.0);   // 2 x (0.25 + 0.25 + 0.5)
    EXPECT_DOUBLE_EQ(run.phase_seconds.at("write"), 2.0);      // 2 x (1.5 - 0.5)
    EXPECT_DOUBLE_EQ(run.phase_seconds.at("manifest"), 0.5);
    // Root: 12 - 10.5 listed; other rank: 11 - 10 listed.
    EXPECT_DOUBLE_EQ(run.phase_seconds.at("other"), 2.5);

    const auto shares = phase_shares(run);
    double total = 0;
    for (const auto& [name, share] : shares) total += share;
    EXPECT_NEAR(total, 1.0, 1e-12);
    EXPECT_DOUBLE_EQ(shares.at("decode"), 6.0 / 23.0);
}

TEST(BenchFigures, StatsWithoutAKeyOrWithMissingRanksAreErrors) {
    Json stats = {{"ranks", 1}, {"per_rank", {rank_stats(0, 12.0, 1, kRootPhases)}}};
    stats["per_rank"][0].erase("stages");
    EXPECT_THROW(converter_run_from_stats(stats), Error);
    const Json short_of_ranks = {{"ranks", 2}, {"per_rank", {rank_stats(0, 12.0, 1, kRootPhases)}}};
    EXPECT_THROW(converter_run_from_stats(short_of_ranks), Error);
}

ConverterRun run_at(int ranks, double wall_seconds, std::uint64_t rss) {
    ConverterRun run;
    run.ranks = ranks;
    run.wall_seconds = wall_seconds;
    run.images = 1000;
    run.peak_rss_bytes.assign(static_cast<std::size_t>(ranks), rss);
    if (ranks > 1) run.peak_rss_bytes.back() = rss / 2;
    run.decode_seconds = 2.0;
    run.source_pixels = 250'000'000;
    run.output_bytes = 1'005'000;
    run.payload_bytes = 1'000'000;
    return run;
}

TEST(BenchFigures, RatiosEfficiencyOverheadAndVerdicts) {
    Measurements measurements;
    // 1 rank: 100 images/s; 2 ranks: 180 images/s (90 per core).
    measurements.runs = {run_at(1, 10.0, 200u << 20), run_at(2, 1000.0 / 180.0, 300u << 20)};
    measurements.runs[1].output_bytes = 1'020'000;  // 2% overhead
    measurements.floor = {1000, 1000.0 / 110.0, 4.0, 250'000'000};
    measurements.naive = {1000, 1000.0 / 50.0, 0, 0};
    const auto figures = compare(measurements, Targets{});

    EXPECT_NEAR(find(figures, "floor_per_core").value, 110.0, 1e-9);
    EXPECT_NEAR(find(figures, "naive_per_core").value, 50.0, 1e-9);
    EXPECT_EQ(find(figures, "floor_per_core").verdict, Verdict::none);

    EXPECT_NEAR(find(figures, "converter_1_per_core").value, 100.0, 1e-9);
    EXPECT_NEAR(find(figures, "converter_2_per_core").value, 90.0, 1e-9);

    const auto& floor1 = find(figures, "converter_1_vs_floor");
    EXPECT_NEAR(floor1.value, 100.0 / 110.0, 1e-9);
    EXPECT_EQ(floor1.verdict, Verdict::pass);
    EXPECT_EQ(floor1.target, ">= 0.85");
    const auto& floor2 = find(figures, "converter_2_vs_floor");
    EXPECT_NEAR(floor2.value, 90.0 / 110.0, 1e-9);
    EXPECT_EQ(floor2.verdict, Verdict::miss);

    EXPECT_NEAR(find(figures, "converter_1_vs_naive").value, 2.0, 1e-9);
    EXPECT_EQ(find(figures, "converter_1_vs_naive").verdict, Verdict::pass);
    EXPECT_NEAR(find(figures, "converter_2_vs_naive").value, 1.8, 1e-9);

    const auto& scaling = find(figures, "scaling_1_to_2");
    EXPECT_NEAR(scaling.value, 0.9, 1e-9);
    EXPECT_EQ(scaling.verdict, Verdict::pass);  // exactly the target passes
    EXPECT_THROW(find(figures, "scaling_1_to_1"), std::runtime_error);

    // The largest rank counts, in MiB.
    EXPECT_DOUBLE_EQ(find(figures, "converter_1_peak_rss").value, 200.0);
    EXPECT_EQ(find(figures, "converter_1_peak_rss").verdict, Verdict::pass);
    EXPECT_DOUBLE_EQ(find(figures, "converter_2_peak_rss").value, 300.0);
    EXPECT_EQ(find(figures, "converter_2_peak_rss").verdict, Verdict::miss);

    EXPECT_NEAR(find(figures, "converter_1_output_overhead").value, 0.5, 1e-9);
    EXPECT_EQ(find(figures, "converter_1_output_overhead").verdict, Verdict::pass);
    EXPECT_NEAR(find(figures, "converter_2_output_overhead").value, 2.0, 1e-9);
    EXPECT_EQ(find(figures, "converter_2_output_overhead").verdict, Verdict::miss);

    EXPECT_NEAR(find(figures, "converter_1_decode_mpixels").value, 125.0, 1e-9);
    EXPECT_NEAR(find(figures, "floor_decode_mpixels").value, 62.5, 1e-9);

    const Json json = to_json(figures);
    EXPECT_EQ(json.at("converter_2_vs_floor").at("verdict"), "MISS");
    EXPECT_EQ(json.at("scaling_1_to_2").at("verdict"), "PASS");
    EXPECT_EQ(json.at("floor_per_core").at("verdict"), "");

    const std::string table = format_table(figures);
    EXPECT_NE(table.find("scaling 1->2 ranks"), std::string::npos) << table;
    EXPECT_NE(table.find("MISS"), std::string::npos) << table;
}

// Two corpora of 1,000 and 3,000 images: each path's time is a start-up plus a cost per
// image, which the slope recovers whatever the start-up.
Measurements slope_corpus(std::uint64_t images) {
    const double n = static_cast<double>(images);
    Measurements measurements;
    measurements.runs = {run_at(1, 0.9 + n * 1.1e-3, 150u << 20),
                         run_at(2, 1.2 + n * 0.6e-3, 170u << 20)};
    for (auto& run : measurements.runs) run.images = images;
    // The rank's own clock: 1.08 of converter@1's 1.1 ms per image, 1.03 of it in the
    // pipeline's stages.
    ConverterRun& single = measurements.runs[0];
    single.rank_seconds = 0.5 + n * 1.08e-3;
    single.phase_seconds = {{"decode", n * 0.7e-3},           {"resize", 0.1 + n * 0.2e-3},
                            {"stats", n * 0.03e-3},           {"encode", n * 0.1e-3},
                            {"read+hash", 0.3 + n * 0.04e-3}, {"write", n * 0.01e-3}};
    measurements.floor = {images, 0.05 + n * 1.0e-3, 0, 0};
    measurements.naive = {images, n * 1.8e-3, 0, 0};
    measurements.digests = {images, 0.01 + n * 0.09e-3, 0, 0};
    return measurements;
}

TEST(BenchFigures, SlopesCancelTheStartUp) {
    Measurements small = slope_corpus(1000);
    const Measurements large = slope_corpus(3000);
    // A rank's peak on either corpus counts.
    small.runs[1].peak_rss_bytes[0] = 300u << 20;
    const auto figures = slope_figures(small, large, Targets{});

    expect_figure(figures, "slope_floor", 1.0, Verdict::none);
    expect_figure(figures, "slope_naive", 1.8, Verdict::none);
    expect_figure(figures, "slope_converter_1", 1.1, Verdict::none);
    expect_figure(figures, "slope_converter_2", 0.6, Verdict::none);
    expect_figure(figures, "slope_overhead", 0.1, Verdict::pass);  // 1.1 - 1.0 <= 0.15
    EXPECT_EQ(find(figures, "slope_overhead").target, "<= 0.15");
    expect_figure(figures, "slope_converter_1_vs_floor", 1.0 / 1.1, Verdict::pass);
    // The overhead's three parts: the converter's work outside its pipeline (its rank's
    // clock less the stages), its stages over the floor's, and mpirun and the process
    // around the rank.
    expect_figure(figures, "slope_overhead_outside_pipeline", 1.08 - 1.03, Verdict::none);
    expect_figure(figures, "slope_overhead_pipeline_vs_floor", 1.03 - 1.0, Verdict::none);
    expect_figure(figures, "slope_overhead_around_rank", 1.1 - 1.08, Verdict::none);
    // What every image's digests cost alone, beside the overhead they are part of.
    expect_figure(figures, "slope_digests", 0.09, Verdict::none);
    expect_figure(figures, "slope_floor_vs_naive", 1.8, Verdict::miss);  // < 2.0
    expect_figure(figures, "slope_scaling_1_to_2", 1.1 / (2 * 0.6), Verdict::pass);
    expect_figure(figures, "slope_converter_1_peak_rss", 150.0, Verdict::pass);
    expect_figure(figures, "slope_converter_2_peak_rss", 300.0, Verdict::miss);
    EXPECT_THROW(find(figures, "slope_scaling_1_to_1"), std::runtime_error);

    // The wall rate of one corpus alone carries the start-up: 3,000 images in 4.2 s is
    // 1.4 ms per image, not 1.1.
    EXPECT_NEAR(1e3 / find(compare(large, Targets{}), "converter_1_per_core").value, 1.4, 1e-9);
}

TEST(BenchFigures, NoSlopeForARunOnlyOneCorpusHas) {
    Measurements small = slope_corpus(1000);
    small.runs.pop_back();
    const auto figures = slope_figures(small, slope_corpus(3000), Targets{});
    EXPECT_NO_THROW(find(figures, "slope_overhead"));
    for (const auto& figure : figures) {
        EXPECT_EQ(figure.key.find("converter_2"), std::string::npos) << figure.key;
        EXPECT_EQ(figure.key.find("scaling"), std::string::npos) << figure.key;
    }
}

TEST(BenchFigures, NoScalingWithoutASingleRankRun) {
    Measurements measurements;
    measurements.runs = {run_at(2, 5.0, 1), run_at(4, 3.0, 1)};
    measurements.floor = {1000, 10.0, 1.0, 1};
    measurements.naive = {1000, 20.0, 0, 0};
    for (const auto& figure : compare(measurements, Targets{})) {
        EXPECT_EQ(figure.key.find("scaling"), std::string::npos) << figure.key;
    }
}

TEST(BenchFigures, ScaleRatiosBetweenTheSmallestAndTheLargestCorpus) {
    ScaleRun small;
    small.images = 20'000;
    small.plan_seconds = 2.0;  // 100 us/image
    small.phase_seconds = {{"plan", 1.0}, {"process", 10.0}, {"total", 20.0}};
    small.root_peak_rss_bytes = 100u << 20;
    small.plan_peak_rss_bytes = 90u << 20;
    ScaleRun large = small;
    large.images = 200'000;
    large.plan_seconds = 23.0;                                                     // 1.15x
    large.phase_seconds = {{"plan", 10.0}, {"process", 130.0}, {"total", 200.0}};  // 1, 1.3, 1
    large.root_peak_rss_bytes = 110u << 20;
    large.plan_peak_rss_bytes = 117u << 20;  // 1.3x
    // Given out of order: sorted by images. Without a start-up run nothing is subtracted.
    const auto figures = scale_figures({large, small}, std::nullopt, Targets{});

    expect_figure(figures, "scale_20000_plan_command", 100.0, Verdict::none);
    expect_figure(figures, "scale_200000_convert_process", 650.0, Verdict::none);
    expect_figure(figures, "scale_ratio_plan_command", 1.15, Verdict::pass);
    expect_figure(figures, "scale_ratio_convert_process", 1.3, Verdict::miss);
    expect_figure(figures, "scale_ratio_convert_total", 1.0, Verdict::pass);
    // A phase the smaller run lacks has nothing to compare with.
    EXPECT_THROW(find(figures, "scale_ratio_convert_dedup"), std::runtime_error);
    expect_figure(figures, "scale_ratio_root_rss", 1.1, Verdict::pass);
    expect_figure(figures, "scale_ratio_plan_rss", 1.3, Verdict::miss);
    expect_figure(figures, "scale_root_rss_growth_per_image",
                  static_cast<double>(10u << 20) / 180'000.0, Verdict::none);

    EXPECT_THROW(find(scale_figures({small}, std::nullopt, Targets{}), "scale_ratio_root_rss"),
                 std::runtime_error);
}

TEST(BenchFigures, ScaleJudgesTheTimeAnImageAddsBeyondTheStartUp) {
    ScaleRun startup;
    startup.images = 200;
    startup.plan_seconds = 0.8;
    startup.phase_seconds = {{"plan", 0.3}, {"process", 0.5}, {"dedup", 0.001}, {"total", 1.0}};
    // Each time: the start-up's plus a cost per image beyond its 200 images.
    const auto run_of = [&](std::uint64_t images, double plan_us, double dedup_us) {
        ScaleRun run;
        run.images = images;
        const double beyond = static_cast<double>(images - startup.images) * 1e-6;
        run.plan_seconds = 0.8 + beyond * plan_us;
        run.phase_seconds = {{"plan", 0.3 + beyond * 10},
                             {"process", 0.5 + beyond * 300},
                             {"dedup", 0.001 + beyond * dedup_us},
                             {"total", 1.0 + beyond * 320}};
        return run;
    };
    const auto figures =
        scale_figures({run_of(20'000, 20, 0.2), run_of(200'000, 21, 0.5)}, startup, Targets{});

    expect_figure(figures, "scale_startup_plan_command", 0.8, Verdict::none);
    expect_figure(figures, "scale_startup_convert_process", 0.5, Verdict::none);
    expect_figure(figures, "scale_20000_plan_command_beyond_startup", 20.0, Verdict::none);
    expect_figure(figures, "scale_200000_convert_process_beyond_startup", 300.0, Verdict::none);
    // As measured, the start-up makes the small corpus's images look dearer (59.8 against
    // 25.0 us); beyond it, an image costs the same.
    expect_figure(figures, "scale_20000_plan_command", 59.8, Verdict::none);
    expect_figure(figures, "scale_ratio_plan_command", 1.05, Verdict::pass);
    expect_figure(figures, "scale_ratio_convert_plan", 1.0, Verdict::pass);
    // 2.5x, but 0.1 s of a 65 s run: shown without a verdict.
    expect_figure(figures, "scale_ratio_convert_dedup", 2.5, Verdict::none);
    EXPECT_EQ(find(figures, "scale_ratio_convert_dedup").target, "(< 1% of the run)");
}

TEST(BenchFigures, ArchiveSlopesAgainstTheFoldersAndTheColdWalkAgainstASecond) {
    // 1.0 s of start-up in every layout; then 4, 4.1 and 5 ms an image.
    const auto run_of = [](std::uint64_t images) {
        const double count = static_cast<double>(images);
        ArchiveRun run;
        run.images = images;
        run.folders_seconds = 1.0 + count * 4e-3;
        run.tar_seconds = 1.0 + count * 4.1e-3;
        run.gzip_seconds = 1.0 + count * 5e-3;
        run.index_seconds = 2.0;
        run.compressed_bytes = 500'000'000;
        return run;
    };
    const OuterWalk walk{1000, 0.002, 0.4};
    const auto figures = archive_figures({run_of(1000), run_of(3000)}, walk, Targets{});
    expect_figure(figures, "archive_folders", 4.0, Verdict::none);
    expect_figure(figures, "archive_tar", 4.1, Verdict::none);
    expect_figure(figures, "archive_gzip", 5.0, Verdict::none);
    expect_figure(figures, "archive_tar_vs_folders", 4.0 / 4.1, Verdict::pass);
    expect_figure(figures, "archive_gzip_vs_folders", 0.8, Verdict::none);
    expect_figure(figures, "archive_gzip_index", 250.0, Verdict::none);
    expect_figure(figures, "archive_outer_walk_warm", 2.0, Verdict::none);
    expect_figure(figures, "archive_outer_walk_cold", 400.0, Verdict::pass);
    const auto slow_walk = archive_figures({run_of(1000)}, {1000, 0.002, 1.2}, Targets{});
    expect_figure(slow_walk, "archive_outer_walk_cold", 1200.0, Verdict::miss);

    // One corpus: the time over the images, start-up included; a tar 10% slower misses.
    auto slow = run_of(1000);
    slow.tar_seconds = slow.folders_seconds * 1.1;
    const auto single = archive_figures({slow}, walk, Targets{});
    expect_figure(single, "archive_folders", 5.0, Verdict::none);
    expect_figure(single, "archive_tar_vs_folders", 1 / 1.1, Verdict::miss);
    EXPECT_TRUE(archive_figures({}, walk, Targets{}).empty());
}

}  // namespace
}  // namespace synshard::bench
