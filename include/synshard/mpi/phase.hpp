#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <utility>

#include "synshard/mpi/comm.hpp"
#include "synshard/util/error.hpp"

namespace synshard::mpi {

// A phase failed on at least one rank, and every rank knows it: thrown on all ranks
// with the same text (the failing rank's message), so none is left in a collective.
class PhaseFailure : public Error {
  public:
    PhaseFailure(std::string phase, int origin_rank, bool usage, const std::string& message);

    const std::string& phase() const { return phase_; }
    int origin_rank() const { return origin_rank_; }
    // The original failure was a UsageError (bad option value found by some rank).
    bool usage() const { return usage_; }

  private:
    std::string phase_;
    int origin_rank_;
    bool usage_;
};

class PhaseProgress;

// Collective: every rank reports whether its part of `phase` succeeded (failure is the
// exception it caught, or null). If any rank failed, every rank throws the same
// PhaseFailure carrying the lowest failing rank's message. The ranks wait for each other
// without spinning (PhaseEndWait): each sends its outcome to the root, which, once every
// rank has arrived, sends them all the verdict. A root that waits longer than
// kNameWaitedRanksAfter names the ranks it waits for, on `progress`'s line if not null.
void agree(const Comm& comm, std::string_view phase, const std::exception_ptr& failure,
           PhaseProgress* progress = nullptr);

// Runs body on this rank, then agree()s on the outcome. Returns what body returns.
template <class Body>
auto run_phase(const Comm& comm, std::string_view phase, PhaseProgress* progress, Body&& body) {
    using Result = decltype(body());
    std::exception_ptr failure;
    if constexpr (std::is_void_v<Result>) {
        try {
            std::forward<Body>(body)();
        } catch (...) {
            failure = std::current_exception();
        }
        agree(comm, phase, failure, progress);
    } else {
        Result result{};
        try {
            result = std::forward<Body>(body)();
        } catch (...) {
            failure = std::current_exception();
        }
        agree(comm, phase, failure, progress);
        return result;
    }
}

template <class Body>
auto run_phase(const Comm& comm, std::string_view phase, Body&& body) {
    return run_phase(comm, phase, nullptr, std::forward<Body>(body));
}

}  // namespace synshard::mpi
