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

// Collective: every rank reports whether its part of `phase` succeeded (failure is the
// exception it caught, or null). If any rank failed, every rank throws the same
// PhaseFailure carrying the lowest failing rank's message.
void agree(const Comm& comm, std::string_view phase, const std::exception_ptr& failure);

// Runs body on this rank, then agree()s on the outcome. Returns what body returns.
template <class Body>
auto run_phase(const Comm& comm, std::string_view phase, Body&& body) {
    using Result = decltype(body());
    std::exception_ptr failure;
    if constexpr (std::is_void_v<Result>) {
        try {
            std::forward<Body>(body)();
        } catch (...) {
            failure = std::current_exception();
        }
        agree(comm, phase, failure);
    } else {
        Result result{};
        try {
            result = std::forward<Body>(body)();
        } catch (...) {
            failure = std::current_exception();
        }
        agree(comm, phase, failure);
        return result;
    }
}

}  // namespace synshard::mpi
