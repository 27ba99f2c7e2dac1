#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "synshard/mpi/comm.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/progress.hpp"

namespace synshard::mpi {

// Global progress of one phase, shown on rank 0 without ever stalling the work loop:
// other ranks send their count to the root at most every `interval` with a non-blocking
// send on the tool's own progress communicator; the root picks them up when it calls
// update(). Collective in construction and destruction only: the destructor (also when
// a rank unwinds from an error) exchanges one final message per rank, so no rank waits
// for another that failed; the root waits for them without spinning (PhaseEndWait) and
// names on its line the ranks it waits for.
class PhaseProgress {
  public:
    PhaseProgress(const Comm& comm, std::string phase, std::uint64_t global_total,
                  ProgressDisplay& display,
                  std::chrono::steady_clock::duration interval = std::chrono::milliseconds(500));
    ~PhaseProgress();
    PhaseProgress(const PhaseProgress&) = delete;
    PhaseProgress& operator=(const PhaseProgress&) = delete;

    // This rank has done `local_done` items so far (monotonic).
    void update(std::uint64_t local_done);
    // `items` more of the items this rank has done (or will have done: count them in
    // update() too) were taken from an earlier run: the display counts only the work
    // left and says how much was reused. Shown with the next update().
    void add_reused(std::uint64_t items);

    // Root: shows the line with `note` after the phase's name ("process, waiting for
    // rank 1: 812/1600 ..."), when the display has a line due.
    void show_note(const std::string& note);

  private:
    void send_count();
    void collect();
    ProgressCounts global_counts() const;

    Comm comm_;
    std::string phase_;
    // Log lines written during the phase name it.
    log::PhaseScope log_phase_;
    std::uint64_t total_;
    ProgressDisplay& display_;
    std::chrono::steady_clock::duration interval_;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_send_;
    // (done, reused) of this rank, and as last heard from each rank on the root.
    std::array<std::uint64_t, 2> local_{};
    std::array<std::uint64_t, 2> outgoing_{};
    MPI_Request pending_ = MPI_REQUEST_NULL;
    std::vector<std::array<std::uint64_t, 2>> per_rank_;
};

}  // namespace synshard::mpi
