#pragma once

#include <string>
#include <vector>

namespace synshard::cli {

// Runs `synshard ARGS...` (ARGS without the program name) and returns the process exit
// code (see ExitCode). Initialises MPI unless the caller already did, so tests can
// run commands in-process. Never throws.
int run(const std::vector<std::string>& args);

}  // namespace synshard::cli
