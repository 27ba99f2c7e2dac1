#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace synshard::bench {

// How a child process ended and what it cost.
struct ChildResult {
    int exit_code = -1;  // 128 + signal when killed by a signal
    std::string output;  // stdout and stderr, interleaved
    double wall_seconds = 0;
    // ru_maxrss of the child itself (wait4), not of its descendants: for mpirun this is
    // the launcher's own peak, never a rank's.
    std::uint64_t peak_rss_bytes = 0;
};

// Runs argv[0] (a path, no shell, no PATH search) with argv, this process's environment
// minus the MPI launcher's variables (OMPI_*, PMIX_*, PMI_*, OPAL_*, ORTE_*, except
// OMPI_ALLOW_RUN_AS_ROOT*), so that a child mpirun starts a job of its own. Waits for it.
// Throws Error when the process cannot be started.
ChildResult run_child(const std::vector<std::string>& argv);

// The MPI launcher: the first of mpirun and mpiexec on PATH. Throws Error if neither is.
std::filesystem::path find_mpi_launcher();

// launcher -np ranks --oversubscribe [--allow-run-as-root when root] program args...
std::vector<std::string> mpi_command(const std::filesystem::path& launcher, int ranks,
                                     const std::filesystem::path& program,
                                     const std::vector<std::string>& args);

}  // namespace synshard::bench
