#pragma once

#include <functional>
#include <string_view>

#include "synshard/mpi/comm.hpp"
#include "synshard/util/exit_code.hpp"

namespace synshard::cli {

// For commands that only read (inspect, show, locate): runs body on the root rank alone,
// then every rank agrees on the outcome. A failure on the root is thrown on every rank as
// a PhaseFailure (so mpirun with several ranks reports it once and exits with 1 or 2),
// and every rank returns the root's exit code.
ExitCode run_on_root(const mpi::Comm& comm, std::string_view phase,
                     const std::function<ExitCode()>& body);

}  // namespace synshard::cli
