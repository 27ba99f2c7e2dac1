#include "synshard/util/progress.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace synshard {
namespace {

TEST(ProgressText, ShowsCountsRateAndEta) {
    EXPECT_EQ(progress_text("decode", 250, 1000, 2.0),
              "decode 250/1000 (25.0%) 125.0 img/s ETA 6 s");
    EXPECT_EQ(progress_text("scan", 10, 0, 2.0), "scan 10 done, 5.0 img/s");
    EXPECT_EQ(progress_text("scan", 0, 10, 0.0), "scan 0/10 (0.0%) 0.0 img/s ETA ?");
}

TEST(ProgressDisplay, ALogGetsPlainLinesAndQuietGetsNothing) {
    std::FILE* log = std::tmpfile();
    ASSERT_NE(log, nullptr);
    auto display = make_progress_display(log, false, std::chrono::seconds(0));
    display->show("decode", 1, 4, 1.0);
    display->finish("decode", 4, 4, 2.0);
    make_progress_display(log, true)->finish("ignored", 1, 1, 1.0);
    std::rewind(log);
    char buffer[512] = {};
    const auto size = std::fread(buffer, 1, sizeof buffer - 1, log);
    std::fclose(log);
    EXPECT_EQ(std::string(buffer, size),
              "synshard: decode 1/4 (25.0%) 1.0 img/s ETA 3 s\n"
              "synshard: decode 4/4 (100.0%) 2.0 img/s ETA 0 s\n");
}

}  // namespace
}  // namespace synshard
