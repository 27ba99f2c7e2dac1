#include "synshard/mpi/count_limit.hpp"

#include <thread>

namespace synshard::mpi {

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

bool CountLimit::finish(std::uint64_t local) {
    mine_[0] = local;
    mine_[1] = 1;
    // A round started before this rank was over does not count it as over yet: the
    // rounds go on until one that every rank entered as over, or that passed the limit.
    while (poll()) {
        if (round_ != MPI_REQUEST_NULL) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return exceeded_;
}

}  // namespace synshard::mpi
