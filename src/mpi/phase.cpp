#include "synshard/mpi/phase.hpp"

#include <array>
#include <cstdint>

#include "synshard/mpi/wait.hpp"

namespace synshard::mpi {

PhaseFailure::PhaseFailure(std::string phase, int origin_rank, bool usage,
                           const std::string& message)
    : Error(message), phase_(std::move(phase)), origin_rank_(origin_rank), usage_(usage) {}

namespace {

// Each rank's outcome, on its way to the root (the only point-to-point messages on a
// phase's communicator).
constexpr int kOutcomeTag = 1;
constexpr std::int64_t kSucceeded = 0;
constexpr std::int64_t kFailed = 1;
constexpr std::int64_t kFailedUsage = 2;

// {lowest failing rank, or size when none failed; its outcome}
using Verdict = std::array<std::int64_t, 2>;

// Root: receives every other rank's outcome as it arrives. A rank sends exactly one per
// phase and cannot send the next before the verdict, so the messages of two phases
// never mix.
Verdict collect_outcomes(const Comm& comm, std::string_view phase, std::int64_t mine,
                         PhaseProgress* progress) {
    Verdict verdict{mine == kSucceeded ? comm.size() : 0, mine};
    PhaseEndWait wait(comm, std::string(phase), progress);
    while (!wait.everyone_arrived()) {
        int waiting = 0;
        MPI_Status status;
        check(MPI_Iprobe(MPI_ANY_SOURCE, kOutcomeTag, comm.get(), &waiting, &status), "MPI_Iprobe");
        if (waiting == 0) {
            wait.pause();
            continue;
        }
        std::int64_t outcome = kSucceeded;
        check(MPI_Recv(&outcome, 1, MPI_INT64_T, status.MPI_SOURCE, kOutcomeTag, comm.get(),
                       MPI_STATUS_IGNORE),
              "MPI_Recv");
        wait.arrived(status.MPI_SOURCE);
        if (outcome != kSucceeded && status.MPI_SOURCE < verdict[0]) {
            verdict = {status.MPI_SOURCE, outcome};
        }
    }
    return verdict;
}

}  // namespace

void agree(const Comm& comm, std::string_view phase, const std::exception_ptr& failure,
           PhaseProgress* progress) {
    std::string message;
    bool usage = false;
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const PhaseFailure& nested) {
            usage = nested.usage();
            message = nested.what();
        } catch (const UsageError& error) {
            usage = true;
            message = error.what();
        } catch (const std::exception& error) {
            message = error.what();
        } catch (...) {
            message = "unknown exception";
        }
    }
    const std::int64_t mine = !failure ? kSucceeded : usage ? kFailedUsage : kFailed;
    Verdict verdict{};
    if (comm.is_root()) {
        verdict = collect_outcomes(comm, phase, mine, progress);
    } else {
        MPI_Request sent = MPI_REQUEST_NULL;
        check(MPI_Isend(&mine, 1, MPI_INT64_T, 0, kOutcomeTag, comm.get(), &sent), "MPI_Isend");
        check(wait_without_spinning(sent), "MPI_Isend");
    }
    if (comm.size() > 1) {
        MPI_Request shared = MPI_REQUEST_NULL;
        check(MPI_Ibcast(verdict.data(), 2, MPI_INT64_T, 0, comm.get(), &shared), "MPI_Ibcast");
        check(wait_without_spinning(shared), "MPI_Ibcast");
    }
    if (verdict[0] == comm.size()) return;
    const int origin_rank = static_cast<int>(verdict[0]);
    // Every rank has the verdict, so every rank is here: this broadcast does not wait long.
    const std::string agreed_message = comm.broadcast(message, origin_rank);
    throw PhaseFailure(std::string(phase), origin_rank, verdict[1] == kFailedUsage, agreed_message);
}

}  // namespace synshard::mpi
