#include "synshard/mpi/count_limit.hpp"

namespace synshard::mpi {
namespace {

// A rank's message to the root that its work is over.
constexpr int kOverTag = 1;

}  // namespace

CountLimit::CountLimit(const Comm& comm, std::uint64_t limit,
                       std::chrono::steady_clock::duration interval)
    : comm_(comm.get()),
      limit_(limit),
      interval_(interval),
      last_round_(std::chrono::steady_clock::now() - interval) {}

CountLimit::~CountLimit() {
    try {
        finish(mine_[0]);
    } catch (...) {
        // The communicator failed: nothing is left to wait for.
    }
}

bool CountLimit::poll() {
    if (round_ != MPI_REQUEST_NULL) {
        int done = 0;
        check(MPI_Test(&round_, &done, MPI_STATUS_IGNORE), "MPI_Test");
        if (done == 0) return true;
        exceeded_ = exceeded_ || sums_[0] > limit_;
        everyone_over_ = sums_[1] == static_cast<std::uint64_t>(comm_.size());
    }
    if (exceeded_ || everyone_over_) return false;
    const auto now = std::chrono::steady_clock::now();
    if (mine_[1] == 0 && now - last_round_ < interval_) return true;
    last_round_ = now;
    sent_ = mine_;
    check(
        MPI_Iallreduce(sent_.data(), sums_.data(), 2, MPI_UINT64_T, MPI_SUM, comm_.get(), &round_),
        "MPI_Iallreduce");
    return true;
}

bool CountLimit::exceeded(std::uint64_t local) {
    mine_[0] = local;
    if (local > limit_) return true;
    poll();
    return exceeded_;
}

bool CountLimit::finish(std::uint64_t local, PhaseProgress* progress) {
    mine_[0] = local;
    mine_[1] = 1;
    if (!told_root_ && !comm_.is_root()) {
        MPI_Request sent = MPI_REQUEST_NULL;
        check(MPI_Isend(&over_message_, 1, MPI_UINT8_T, 0, kOverTag, comm_.get(), &sent),
              "MPI_Isend");
        check(wait_without_spinning(sent), "MPI_Isend");
    }
    told_root_ = true;
    PhaseEndWait wait(comm_, "", progress);
    // A round started before this rank was over does not count it as over yet: the
    // rounds go on until one that every rank entered as over, or that passed the limit.
    // The root also takes every rank's "over" message, so that none is left in flight.
    for (;;) {
        if (comm_.is_root()) collect_over(wait);
        const bool all_told = !comm_.is_root() || over_messages_ + 1 == comm_.size();
        if (!poll() && all_told) return exceeded_;
        wait.pause();
    }
}

void CountLimit::collect_over(PhaseEndWait& wait) {
    for (;;) {
        int waiting = 0;
        MPI_Status status;
        check(MPI_Iprobe(MPI_ANY_SOURCE, kOverTag, comm_.get(), &waiting, &status), "MPI_Iprobe");
        if (waiting == 0) return;
        std::uint8_t over = 0;
        check(MPI_Recv(&over, 1, MPI_UINT8_T, status.MPI_SOURCE, kOverTag, comm_.get(),
                       MPI_STATUS_IGNORE),
              "MPI_Recv");
        ++over_messages_;
        wait.arrived(status.MPI_SOURCE);
    }
}

}  // namespace synshard::mpi
