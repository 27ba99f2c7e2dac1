#pragma once

#include <mpi.h>

namespace synshard::mpi {

// Initialises MPI for the lifetime of the object, as a singleton process (no mpirun) or
// under mpirun/srun. If MPI is already initialised (a test main did it), the object
// neither initialises nor finalises it, so commands can be run in-process by tests.
class Environment {
  public:
    Environment();
    ~Environment();
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;

  private:
    bool owns_ = false;
};

}  // namespace synshard::mpi
