#include "synshard/util/progress.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "synshard/util/error.hpp"
#include "synshard/util/log.hpp"

namespace synshard {
namespace {

std::string written_to(std::FILE* file) {
    std::rewind(file);
    char buffer[2048] = {};
    const auto size = std::fread(buffer, 1, sizeof buffer - 1, file);
    std::fclose(file);
    return std::string(buffer, size);
}

TEST(ProgressText, ShowsCountsRateAndEta) {
    EXPECT_EQ(progress_text("decode", {250, 1000, 0}, 2.0),
              "decode 250/1000 (25.0%) 125.0 img/s ETA 6 s");
    EXPECT_EQ(progress_text("scan", {30, 0, 0}, 3.0), "scan 30 done, 10.0 img/s");
    EXPECT_EQ(progress_text("decode", {900, 1000, 0}, 1800.0),
              "decode 900/1000 (90.0%) 0.5 img/s ETA 3 min");
}

TEST(ProgressText, ShowsNoRateBeforeEnoughTimeAndItemsHavePassed) {
    // The first tick of a run used to say "1830.2 img/s ETA 0 s".
    EXPECT_EQ(progress_text("write", {1, 1000, 0}, 0.01), "write 1/1000 (0.1%)");
    EXPECT_EQ(progress_text("write", {500, 1000, 0}, 0.5), "write 500/1000 (50.0%)");
    EXPECT_EQ(progress_text("write", {3, 1000, 0}, 30.0), "write 3/1000 (0.3%)");
    EXPECT_EQ(progress_text("scan", {0, 10, 0}, 0.0), "scan 0/10 (0%)");
}

TEST(ProgressText, AfterAResumeCountsOnlyTheWorkLeftAndSaysWhatWasReused) {
    // 300 of 1000 images were in shards an earlier run wrote: they are neither work done
    // by this run nor written at thousands of images a second.
    EXPECT_EQ(progress_text("write", {400, 1000, 300}, 4.0),
              "write 100/700 (14.3%) 25.0 img/s ETA 24 s, 300 reused from an earlier run");
    EXPECT_EQ(progress_text("write", {300, 1000, 300}, 0.2),
              "write 0/700 (0%), 300 reused from an earlier run");
    EXPECT_EQ(progress_text("write", {1000, 1000, 1000}, 0.1, true),
              "write 0/0 (100%) in 0.1 s, 1000 reused from an earlier run");
}

TEST(ProgressText, TheFinalLineGivesTheTimeAndAverageRate) {
    EXPECT_EQ(progress_text("process", {1000, 1000, 0}, 8.0, true),
              "process 1000/1000 (100%) in 8.0 s, 125.0 img/s");
    EXPECT_EQ(progress_text("process", {3, 3, 0}, 0.05, true), "process 3/3 (100%) in 0.1 s");
}

TEST(ProgressDisplay, ALogGetsPlainLinesAndQuietGetsNothing) {
    std::FILE* log = std::tmpfile();
    ASSERT_NE(log, nullptr);
    configure_progress(ProgressMode::lines);
    auto display = make_progress_display(log, false, std::chrono::seconds(0));
    display->show("decode", {100, 400, 0}, 4.0);
    display->finish("decode", {400, 400, 0}, 8.0);
    make_progress_display(log, true)->finish("ignored", {1, 1, 0}, 1.0);
    configure_progress(ProgressMode::none);
    make_progress_display(log, false)->finish("ignored", {1, 1, 0}, 1.0);
    configure_progress(ProgressMode::automatic);
    EXPECT_EQ(written_to(log),
              "synshard: decode 100/400 (25.0%) 25.0 img/s ETA 12 s\n"
              "synshard: decode 400/400 (100%) in 8.0 s, 50.0 img/s\n");
}

TEST(ProgressDisplay, AForcedBarRedrawsItsLine) {
    std::FILE* log = std::tmpfile();
    ASSERT_NE(log, nullptr);
    configure_progress(ProgressMode::bar);
    make_progress_display(log, false)->finish("decode", {4, 4, 0}, 0.5);
    configure_progress(ProgressMode::automatic);
    EXPECT_EQ(written_to(log), "\r\033[Kdecode 4/4 (100%) in 0.5 s\n");
}

TEST(ProgressDisplay, JsonLogsGetOneObjectPerLineWithCounters) {
    std::FILE* log = std::tmpfile();
    ASSERT_NE(log, nullptr);
    log::configure(0, 1, log::Level::info, log::Format::json);
    {
        const log::PhaseScope phase("write");
        make_progress_display(log, false)->finish("write", {400, 1000, 300}, 4.0);
    }
    log::configure(0, 1, log::Level::info, log::Format::text);
    const auto line = nlohmann::json::parse(written_to(log));
    EXPECT_EQ(line["phase"], "write");
    EXPECT_EQ(line["level"], "info");
    EXPECT_EQ(line["rank"], 0);
    EXPECT_EQ(line["counters"]["done"], 400);
    EXPECT_EQ(line["counters"]["total"], 1000);
    EXPECT_EQ(line["counters"]["reused"], 300);
    EXPECT_EQ(line["message"],
              "write 100/700 (14.3%) in 4.0 s, 25.0 img/s, 300 reused from an "
              "earlier run");
}

TEST(ProgressMode, ParsesTheThreeNamesAndRefusesOthersNamingThem) {
    EXPECT_EQ(parse_progress_mode("bar"), ProgressMode::bar);
    EXPECT_EQ(parse_progress_mode("lines"), ProgressMode::lines);
    EXPECT_EQ(parse_progress_mode("none"), ProgressMode::none);
    try {
        parse_progress_mode("fancy");
        FAIL() << "accepted --progress fancy";
    } catch (const UsageError& error) {
        EXPECT_STREQ(error.what(), "--progress must be bar, lines or none, not 'fancy'");
    }
}

TEST(UserSeesTerminal, KnowsLaunchersDaemonsAndTerminalDevices) {
    for (const char* launcher : {"mpirun", "mpiexec", "orterun", "prterun"})
        EXPECT_EQ(ancestor_kind(launcher), Ancestor::launcher) << launcher;
    for (const char* daemon : {"orted", "prted"})
        EXPECT_EQ(ancestor_kind(daemon), Ancestor::daemon) << daemon;
    EXPECT_EQ(ancestor_kind("bash"), Ancestor::other);
    EXPECT_EQ(ancestor_kind("mpirun-wrapper"), Ancestor::other);
    EXPECT_TRUE(is_terminal_device("/dev/pts/3"));
    EXPECT_TRUE(is_terminal_device("/dev/tty1"));
    EXPECT_TRUE(is_terminal_device("/dev/console"));
    EXPECT_FALSE(is_terminal_device("/tmp/job.log"));
    EXPECT_FALSE(is_terminal_device("pipe:[81532]"));
    EXPECT_FALSE(is_terminal_device("/dev/null"));
    EXPECT_FALSE(is_terminal_device("/dev/ptmx"));
}

}  // namespace
}  // namespace synshard
