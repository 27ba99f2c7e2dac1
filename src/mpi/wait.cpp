#include "synshard/mpi/wait.hpp"

#include <algorithm>
#include <thread>

#include "synshard/mpi/progress.hpp"
#include "synshard/util/log.hpp"

namespace synshard::mpi {

void Backoff::pause() {
    if (spins_ < 2000) {
        ++spins_;
        std::this_thread::yield();
        return;
    }
    std::this_thread::sleep_for(next_);
    next_ = std::min<std::chrono::microseconds>(next_ * 2, std::chrono::milliseconds(20));
}

int wait_without_spinning(MPI_Request& request) {
    Backoff backoff;
    for (;;) {
        int done = 0;
        const int code = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
        if (code != MPI_SUCCESS || done != 0) return code;
        backoff.pause();
    }
}

PhaseEndWait::PhaseEndWait(const Comm& comm, std::string phase, PhaseProgress* progress)
    : root_(comm.is_root()),
      phase_(std::move(phase)),
      progress_(progress),
      start_(std::chrono::steady_clock::now()),
      arrived_(static_cast<std::size_t>(comm.size()), false),
      missing_(comm.size() - 1) {
    arrived_[0] = true;
}

void PhaseEndWait::arrived(int rank) {
    if (arrived_[static_cast<std::size_t>(rank)]) return;
    arrived_[static_cast<std::size_t>(rank)] = true;
    --missing_;
}

void PhaseEndWait::pause() {
    backoff_.pause();
    if (!root_ || missing_ == 0) return;
    if (std::chrono::steady_clock::now() - start_ < kNameWaitedRanksAfter) return;
    std::vector<int> missing;
    for (std::size_t rank = 0; rank < arrived_.size(); ++rank) {
        if (!arrived_[rank]) missing.push_back(static_cast<int>(rank));
    }
    const std::string named = "waiting for " + ranks_text(missing);
    if (progress_ != nullptr) {
        // The display decides how often a line is due.
        progress_->show_note(named);
    } else if (named != last_named_) {
        log::info(phase_.empty() ? named : phase_ + ": " + named);
    }
    last_named_ = named;
}

std::string ranks_text(const std::vector<int>& ranks) {
    std::string text = ranks.size() == 1 ? "rank " : "ranks ";
    for (std::size_t i = 0; i < ranks.size(); ++i) {
        if (i != 0) text += ", ";
        text += std::to_string(ranks[i]);
    }
    return text;
}

}  // namespace synshard::mpi
