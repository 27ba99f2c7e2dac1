#include "synshard/mpi/environment.hpp"

#include <cstdlib>
#include <string_view>

#include "synshard/mpi/comm.hpp"

namespace synshard::mpi {
namespace {

// mpirun, srun and other PMIx/PMI launchers tell their processes who they are.
bool started_by_launcher() {
    for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
        if (std::getenv(variable) != nullptr) return true;
    }
    return false;
}

}  // namespace

Environment::Environment() {
    int initialized = 0;
    check(MPI_Initialized(&initialized), "MPI_Initialized");
    if (initialized != 0) return;
    // A process started without a launcher is a singleton, which Open MPI serves by
    // starting a daemon (orted) first: over a second before `synshard hierarchy` or a
    // one-rank convert can start. synshard never spawns processes, so the singleton can
    // run without it. Every isolated singleton also gets the same session directory
    // (TMPDIR/ompi.HOST.UID/jf.0/1/0), which a run that ends removes while another
    // creates it, failing MPI_Init at random; a lone process needs none. Nor does it need
    // the transports to other nodes: choosing among them, Open MPI opens the cm layer,
    // whose PSM2 library polls for Omni-Path adapters with sleeps, 0.2 s of every start
    // here; ob1 carries a lone process's messages to itself. The user's own settings win.
    if (!started_by_launcher()) {
        setenv("OMPI_MCA_ess_singleton_isolated", "1", /*overwrite=*/0);
        if (std::string_view(std::getenv("OMPI_MCA_ess_singleton_isolated")) == "1") {
            setenv("OMPI_MCA_orte_create_session_dirs", "0", /*overwrite=*/0);
            setenv("OMPI_MCA_pml", "ob1", /*overwrite=*/0);
        }
    }
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
