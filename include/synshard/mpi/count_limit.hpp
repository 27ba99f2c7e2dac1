#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "synshard/mpi/comm.hpp"
#include "synshard/mpi/wait.hpp"

namespace synshard::mpi {

// A count that grows on every rank while the ranks work (rejected images, say), watched
// against a global limit without ever stalling the work loop: the ranks sum their counts
// in rounds of non-blocking all-reduces on a communicator of their own. Every rank sees
// the same sequence of sums, so all of them learn in the same round that the sum passed
// the limit, or that every rank is done. Collective in construction and in finish() (the
// destructor finishes a rank that unwinds from an error, so no rank waits for it).
class CountLimit {
  public:
    CountLimit(const Comm& comm, std::uint64_t limit,
               std::chrono::steady_clock::duration interval = std::chrono::milliseconds(50));
    ~CountLimit();
    CountLimit(const CountLimit&) = delete;
    CountLimit& operator=(const CountLimit&) = delete;

    // This rank has counted `local` so far (monotonic). True once the global count is
    // known to exceed the limit: from this rank's own count alone, or from a round.
    bool exceeded(std::uint64_t local);

    // This rank's work is over (done, or stopped by exceeded()): takes part in rounds
    // until every rank is over or a round shows the limit exceeded, without spinning
    // (PhaseEndWait). Every rank tells the root when it is over, so a root that waits
    // longer than kNameWaitedRanksAfter names the ranks still working, on `progress`'s
    // line if not null. Returns whether the limit was exceeded.
    bool finish(std::uint64_t local, PhaseProgress* progress = nullptr);

  private:
    // Completes the round in flight if it is done, then starts the next one when due.
    // Returns false once no further round is needed.
    bool poll();
    // Root: takes the "over" messages that have arrived.
    void collect_over(PhaseEndWait& wait);

    Comm comm_;
    std::uint64_t limit_;
    std::chrono::steady_clock::duration interval_;
    std::chrono::steady_clock::time_point last_round_;
    // {count, 1 when this rank's work is over}, and their sums in the last round.
    std::array<std::uint64_t, 2> mine_{};
    std::array<std::uint64_t, 2> sent_{};  // what the round in flight sums
    std::array<std::uint64_t, 2> sums_{};
    MPI_Request round_ = MPI_REQUEST_NULL;
    // This rank's "over" message to the root (sent once), and on the root how many of
    // the others' have arrived.
    std::uint8_t over_message_ = 1;
    bool told_root_ = false;
    int over_messages_ = 0;
    bool exceeded_ = false;
    bool everyone_over_ = false;
};

}  // namespace synshard::mpi
