#include "synshard/cli/root_only.hpp"

#include "synshard/mpi/phase.hpp"

namespace synshard::cli {

ExitCode run_on_root(const mpi::Comm& comm, std::string_view phase,
                     const std::function<ExitCode()>& body) {
    const int code =
        mpi::run_phase(comm, phase, [&] { return comm.is_root() ? to_int(body()) : 0; });
    // Exit codes are non-negative and the other ranks hold 0, so the maximum is the root's.
    return static_cast<ExitCode>(comm.max(code));
}

}  // namespace synshard::cli
