#include "synshard/mpi/progress.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "synshard/mpi/phase.hpp"

namespace synshard::mpi {
namespace {

class RecordingDisplay final : public ProgressDisplay {
  public:
    void show(const std::string&, std::uint64_t done, std::uint64_t, double) override {
        shown.push_back(done);
    }
    void finish(const std::string& phase, std::uint64_t done, std::uint64_t total,
                double) override {
        finished_phase = phase;
        finished_done = done;
        finished_total = total;
    }
    std::vector<std::uint64_t> shown;
    std::string finished_phase;
    std::uint64_t finished_done = 0;
    std::uint64_t finished_total = 0;
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
