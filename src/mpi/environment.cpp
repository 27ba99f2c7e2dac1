#include "synshard/mpi/environment.hpp"

#include "synshard/mpi/comm.hpp"

namespace synshard::mpi {

Environment::Environment() {
    int initialized = 0;
    check(MPI_Initialized(&initialized), "MPI_Initialized");
    if (initialized != 0) return;
    int provided = 0;
    // FUNNELED: helper threads may exist, but only the main thread calls MPI.
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    // Errors come back as codes and become exceptions with context, instead of aborting.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    owns_ = true;
}

Environment::~Environment() {
    if (!owns_) return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized == 0) MPI_Finalize();
}

}  // namespace synshard::mpi
