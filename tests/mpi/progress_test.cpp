#include "synshard/mpi/progress.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "synshard/mpi/phase.hpp"

namespace synshard::mpi {
namespace {

class RecordingDisplay final : public ProgressDisplay {
  public:
    void show(const std::string&, const ProgressCounts& counts, double) override {
        shown.push_back(counts.done);
    }
    void finish(const std::string& phase, const ProgressCounts& counts, double) override {
        finished_phase = phase;
        finished_done = counts.done;
        finished_total = counts.total;
        finished_reused = counts.reused;
    }
    std::vector<std::uint64_t> shown;
    std::string finished_phase;
    std::uint64_t finished_done = 0;
    std::uint64_t finished_total = 0;
    std::uint64_t finished_reused = 0;
};

TEST(PhaseProgress, RootSeesTheSumOfEveryRanksWork) {
    Comm comm;
    RecordingDisplay display;
    const std::uint64_t per_rank = 50;
    {
        PhaseProgress progress(comm, "decode", per_rank * static_cast<std::uint64_t>(comm.size()),
                               display, std::chrono::milliseconds(1));
        for (std::uint64_t i = 1; i <= per_rank; ++i) {
            progress.update(i);
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }
    if (comm.is_root()) {
        EXPECT_EQ(display.finished_phase, "decode");
        EXPECT_EQ(display.finished_done, per_rank * static_cast<std::uint64_t>(comm.size()));
        EXPECT_EQ(display.finished_total, per_rank * static_cast<std::uint64_t>(comm.size()));
        ASSERT_FALSE(display.shown.empty());
        EXPECT_TRUE(std::is_sorted(display.shown.begin(), display.shown.end()));
    } else {
        EXPECT_TRUE(display.shown.empty()) << "only the root displays";
    }
}

TEST(PhaseProgress, RootSeesTheSumOfWhatEveryRankReused) {
    Comm comm;
    RecordingDisplay display;
    const auto ranks = static_cast<std::uint64_t>(comm.size());
    const auto rank = static_cast<std::uint64_t>(comm.rank());
    {
        // Rank r took r + 1 of its 10 items from an earlier run.
        PhaseProgress progress(comm, "write", 10 * ranks, display, std::chrono::milliseconds(1));
        progress.add_reused(rank + 1);
        progress.update(rank + 1);
        progress.update(10);
    }
    if (comm.is_root()) {
        EXPECT_EQ(display.finished_done, 10 * ranks);
        EXPECT_EQ(display.finished_reused, ranks * (ranks + 1) / 2);
    }
}

TEST(PhaseProgress, ARankThatFailsMidPhaseDoesNotHangTheOthers) {
    Comm comm;
    RecordingDisplay display;
    const int failing = comm.size() - 1;
    EXPECT_THROW(run_phase(comm, "write",
                           [&] {
                               PhaseProgress progress(comm, "write", 10, display);
                               progress.update(1);
                               if (comm.rank() == failing) throw Error("disk full");
                               progress.update(2);
                           }),
                 PhaseFailure);
}

}  // namespace
}  // namespace synshard::mpi
