#include "synshard/mpi/progress.hpp"

#include "synshard/mpi/wait.hpp"

namespace synshard::mpi {
namespace {

constexpr int kCountTag = 1;
constexpr int kFinalTag = 2;

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

PhaseProgress::PhaseProgress(const Comm& comm, std::string phase, std::uint64_t global_total,
                             ProgressDisplay& display, std::chrono::steady_clock::duration interval)
    : comm_(comm.get()),
      phase_(std::move(phase)),
      log_phase_(phase_),
      total_(global_total),
      display_(display),
      interval_(interval),
      start_(std::chrono::steady_clock::now()),
      last_send_(start_),
      per_rank_(static_cast<std::size_t>(comm.size())) {}

PhaseProgress::~PhaseProgress() {
    if (comm_.is_root()) {
        // Drain every rank's messages up to its final one (messages from one sender
        // arrive in order), so nothing is left in flight on the communicator.
        PhaseEndWait wait(comm_, phase_, this);
        while (!wait.everyone_arrived()) {
            int waiting = 0;
            MPI_Status status;
            if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_.get(), &waiting, &status) !=
                MPI_SUCCESS) {
                break;
            }
            if (waiting == 0) {
                wait.pause();
                continue;
            }
            std::array<std::uint64_t, 2> counts{};
            if (MPI_Recv(counts.data(), 2, MPI_UINT64_T, status.MPI_SOURCE, status.MPI_TAG,
                         comm_.get(), MPI_STATUS_IGNORE) != MPI_SUCCESS) {
                break;
            }
            per_rank_[static_cast<std::size_t>(status.MPI_SOURCE)] = counts;
            if (status.MPI_TAG == kFinalTag) wait.arrived(status.MPI_SOURCE);
        }
        per_rank_[0] = local_;
        display_.finish(phase_, global_counts(), seconds_since(start_));
    } else {
        wait_without_spinning(pending_);
        outgoing_ = local_;
        if (MPI_Isend(outgoing_.data(), 2, MPI_UINT64_T, 0, kFinalTag, comm_.get(), &pending_) ==
            MPI_SUCCESS) {
            wait_without_spinning(pending_);
        }
    }
}

void PhaseProgress::add_reused(std::uint64_t items) {
    local_[1] += items;
}

void PhaseProgress::update(std::uint64_t local_done) {
    local_[0] = local_done;
    if (comm_.is_root()) {
        collect();
        per_rank_[0] = local_;
        display_.show(phase_, global_counts(), seconds_since(start_));
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_send_ < interval_) return;
    int finished = 1;
    if (pending_ != MPI_REQUEST_NULL) MPI_Test(&pending_, &finished, MPI_STATUS_IGNORE);
    if (finished == 0) return;
    last_send_ = now;
    send_count();
}

void PhaseProgress::show_note(const std::string& note) {
    per_rank_[0] = local_;
    display_.show(phase_ + ", " + note + ":", global_counts(), seconds_since(start_));
}

ProgressCounts PhaseProgress::global_counts() const {
    ProgressCounts counts;
    counts.total = total_;
    for (const auto& [done, reused] : per_rank_) {
        counts.done += done;
        counts.reused += reused;
    }
    return counts;
}

void PhaseProgress::send_count() {
    outgoing_ = local_;
    check(MPI_Isend(outgoing_.data(), 2, MPI_UINT64_T, 0, kCountTag, comm_.get(), &pending_),
          "MPI_Isend");
}

void PhaseProgress::collect() {
    for (;;) {
        int waiting = 0;
        MPI_Status status;
        check(MPI_Iprobe(MPI_ANY_SOURCE, kCountTag, comm_.get(), &waiting, &status), "MPI_Iprobe");
        if (waiting == 0) return;
        std::array<std::uint64_t, 2> counts{};
        check(MPI_Recv(counts.data(), 2, MPI_UINT64_T, status.MPI_SOURCE, kCountTag, comm_.get(),
                       MPI_STATUS_IGNORE),
              "MPI_Recv");
        per_rank_[static_cast<std::size_t>(status.MPI_SOURCE)] = counts;
    }
}

}  // namespace synshard::mpi
