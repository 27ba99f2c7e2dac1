#pragma once

#include <mpi.h>

#include <chrono>
#include <string>
#include <vector>

#include "synshard/mpi/comm.hpp"

namespace synshard::mpi {

class PhaseProgress;

// How long the root waits at the end of a phase before it names the ranks it waits for.
inline constexpr std::chrono::seconds kNameWaitedRanksAfter{10};

// The sleeps between the tests of a wait for other ranks. Open MPI's blocking calls
// (MPI_Allreduce, MPI_Recv, MPI_Wait) poll at full speed, so a rank waiting 30 s for a
// stopped or slow one would burn a core all that time; the waits at phase ends test
// non-blocking requests instead and pause in between: the first 2000 pauses only yield
// the core (the many short phases and collectives end on every rank almost together, and
// a sleep would add its whole length to each), then sleeps of 50 us doubling up to 20 ms
// (the most a long wait adds to the phase).
class Backoff {
  public:
    void pause();

  private:
    int spins_ = 0;
    std::chrono::microseconds next_{50};
};

// Tests `request` until it completes, pausing in between. Returns MPI's error code.
int wait_without_spinning(MPI_Request& request);

// The root's side of a wait at the end of a phase: who has arrived, and, once it has
// waited kNameWaitedRanksAfter, the others named at every pause: on `progress`'s line
// ("process, waiting for rank 1: ..."), or, in a phase that shows none, in a log line
// whenever they change. On other ranks it only pauses.
class PhaseEndWait {
  public:
    // `phase` names the wait in the log line; `progress` may be null.
    PhaseEndWait(const Comm& comm, std::string phase, PhaseProgress* progress = nullptr);

    // Root: `rank` has arrived (the root itself has from the start).
    void arrived(int rank);
    bool everyone_arrived() const { return missing_ == 0; }
    // Sleeps before the next test; on the root, names the missing ranks when it is time.
    void pause();

  private:
    bool root_;
    std::string phase_;
    PhaseProgress* progress_;
    std::chrono::steady_clock::time_point start_;
    Backoff backoff_;
    std::vector<bool> arrived_;
    int missing_;
    std::string last_named_;
};

// "rank 1" or "ranks 1, 3".
std::string ranks_text(const std::vector<int>& ranks);

}  // namespace synshard::mpi
