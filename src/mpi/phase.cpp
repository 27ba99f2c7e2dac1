#include "synshard/mpi/phase.hpp"

#include <cstdint>

namespace synshard::mpi {

PhaseFailure::PhaseFailure(std::string phase, int origin_rank, bool usage,
                           const std::string& message)
    : Error(message), phase_(std::move(phase)), origin_rank_(origin_rank), usage_(usage) {}

void agree(const Comm& comm, std::string_view phase, const std::exception_ptr& failure) {
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
    const std::int64_t mine = failure ? comm.rank() : comm.size();
    const std::int64_t origin = comm.min(mine);
    if (origin == comm.size()) return;
    const int origin_rank = static_cast<int>(origin);
    const std::string agreed_message = comm.broadcast(message, origin_rank);
    std::uint8_t agreed_usage = usage ? 1 : 0;
    check(MPI_Bcast(&agreed_usage, 1, MPI_UINT8_T, origin_rank, comm.get()), "MPI_Bcast");
    throw PhaseFailure(std::string(phase), origin_rank, agreed_usage != 0, agreed_message);
}

}  // namespace synshard::mpi
