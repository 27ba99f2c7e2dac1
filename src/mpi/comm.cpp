#include "synshard/mpi/comm.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <string>

#include "synshard/mpi/wait.hpp"
#include "synshard/util/error.hpp"

namespace synshard::mpi {

void check(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw Error(std::string(what) + ": " + std::string(text, static_cast<std::size_t>(length)));
}

namespace {

// MPI counts are int; large payloads travel as MPI_BYTE chunks of at most this size.
constexpr std::size_t kMaxChunk = std::size_t{1} << 30;

// Every collective of a Comm is posted non-blocking (post(&request)) and completed here,
// polled without spinning (wait.hpp): Open MPI's blocking collectives spin, so a rank
// waiting in one for a slow or stopped rank would burn a core.
template <class Post>
void collective(const char* what, Post&& post) {
    MPI_Request request = MPI_REQUEST_NULL;
    check(post(&request), what);
    check(wait_without_spinning(request), what);
}

std::vector<int> counts_of(const std::vector<std::uint64_t>& sizes) {
    std::vector<int> counts(sizes.size());
    std::transform(sizes.begin(), sizes.end(), counts.begin(),
                   [](std::uint64_t s) { return static_cast<int>(s); });
    return counts;
}

}  // namespace

Comm::Comm(MPI_Comm parent) {
    collective("MPI_Comm_idup",
               [&](MPI_Request* request) { return MPI_Comm_idup(parent, &comm_, request); });
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

Comm::~Comm() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (comm_ != MPI_COMM_NULL && finalized == 0) MPI_Comm_free(&comm_);
}

void Comm::allreduce(const void* values, void* result, int count, MPI_Datatype type,
                     MPI_Op op) const {
    collective("MPI_Iallreduce", [&](MPI_Request* request) {
        return MPI_Iallreduce(values, result, count, type, op, comm_, request);
    });
}

void Comm::barrier() const {
    collective("MPI_Ibarrier", [&](MPI_Request* request) { return MPI_Ibarrier(comm_, request); });
}

std::uint64_t Comm::sum(std::uint64_t value) const {
    std::uint64_t result = 0;
    allreduce(&value, &result, 1, MPI_UINT64_T, MPI_SUM);
    return result;
}

std::int64_t Comm::max(std::int64_t value) const {
    std::int64_t result = 0;
    allreduce(&value, &result, 1, MPI_INT64_T, MPI_MAX);
    return result;
}

std::int64_t Comm::min(std::int64_t value) const {
    std::int64_t result = 0;
    allreduce(&value, &result, 1, MPI_INT64_T, MPI_MIN);
    return result;
}

double Comm::sum(double value) const {
    double result = 0;
    allreduce(&value, &result, 1, MPI_DOUBLE, MPI_SUM);
    return result;
}

std::vector<std::uint64_t> Comm::sum(std::span<const std::uint64_t> values) const {
    std::vector<std::uint64_t> result(values.size());
    allreduce(values.data(), result.data(), static_cast<int>(values.size()), MPI_UINT64_T, MPI_SUM);
    return result;
}

std::vector<double> Comm::sum(std::span<const double> values) const {
    std::vector<double> result(values.size());
    allreduce(values.data(), result.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM);
    return result;
}

std::vector<std::vector<std::uint8_t>> Comm::gather(std::span<const std::uint8_t> bytes,
                                                    int root) const {
    std::vector<std::vector<std::uint8_t>> outgoing(static_cast<std::size_t>(size_));
    outgoing[static_cast<std::size_t>(root)].assign(bytes.begin(), bytes.end());
    auto incoming = all_to_all(std::move(outgoing));
    if (rank_ != root) incoming.clear();
    return incoming;
}

std::vector<std::vector<std::uint8_t>> Comm::all_gather(std::span<const std::uint8_t> bytes) const {
    std::vector<std::vector<std::uint8_t>> outgoing(
        static_cast<std::size_t>(size_), std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    return all_to_all(std::move(outgoing));
}

std::vector<std::uint8_t> Comm::broadcast(std::span<const std::uint8_t> bytes, int root) const {
    std::uint64_t size = bytes.size();
    collective("MPI_Ibcast", [&](MPI_Request* request) {
        return MPI_Ibcast(&size, 1, MPI_UINT64_T, root, comm_, request);
    });
    std::vector<std::uint8_t> result(size);
    if (rank_ == root) std::copy(bytes.begin(), bytes.end(), result.begin());
    for (std::size_t offset = 0; offset < size; offset += kMaxChunk) {
        const auto chunk = static_cast<int>(std::min<std::size_t>(kMaxChunk, size - offset));
        collective("MPI_Ibcast", [&](MPI_Request* request) {
            return MPI_Ibcast(result.data() + offset, chunk, MPI_BYTE, root, comm_, request);
        });
    }
    return result;
}

std::string Comm::broadcast(const std::string& text, int root) const {
    const auto bytes =
        broadcast(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), root);
    return std::string(bytes.begin(), bytes.end());
}

std::vector<std::vector<std::uint8_t>> Comm::all_to_all(
    std::vector<std::vector<std::uint8_t>> outgoing) const {
    const auto ranks = static_cast<std::size_t>(size_);
    if (outgoing.size() != ranks) throw Error("all_to_all: need one message per rank");
    // The message to itself never goes through MPI and is handed over (a shard's images,
    // at one rank, are all such a message).
    const auto self = static_cast<std::size_t>(rank_);
    std::vector<std::uint64_t> send_sizes(ranks);
    for (std::size_t r = 0; r < ranks; ++r) send_sizes[r] = r == self ? 0 : outgoing[r].size();
    std::vector<std::uint64_t> receive_sizes(ranks);
    collective("MPI_Ialltoall", [&](MPI_Request* request) {
        return MPI_Ialltoall(send_sizes.data(), 1, MPI_UINT64_T, receive_sizes.data(), 1,
                             MPI_UINT64_T, comm_, request);
    });

    std::vector<std::vector<std::uint8_t>> incoming(ranks);
    for (std::size_t r = 0; r < ranks; ++r) incoming[r].reserve(receive_sizes[r]);
    incoming[self] = std::move(outgoing[self]);

    // Rounds of at most kMaxChunk bytes per pair keep every count within int.
    const std::uint64_t largest_send = *std::max_element(send_sizes.begin(), send_sizes.end());
    const std::uint64_t largest_receive =
        *std::max_element(receive_sizes.begin(), receive_sizes.end());
    std::uint64_t largest = std::max(largest_send, largest_receive);
    allreduce(MPI_IN_PLACE, &largest, 1, MPI_UINT64_T, MPI_MAX);

    for (std::uint64_t offset = 0; offset < largest || offset == 0; offset += kMaxChunk) {
        std::vector<std::uint64_t> send_chunk(ranks);
        std::vector<std::uint64_t> receive_chunk(ranks);
        for (std::size_t r = 0; r < ranks; ++r) {
            send_chunk[r] = send_sizes[r] > offset
                                ? std::min<std::uint64_t>(kMaxChunk, send_sizes[r] - offset)
                                : 0;
            receive_chunk[r] = receive_sizes[r] > offset
                                   ? std::min<std::uint64_t>(kMaxChunk, receive_sizes[r] - offset)
                                   : 0;
        }
        std::vector<int> send_displacements(ranks);
        std::vector<int> receive_displacements(ranks);
        std::size_t send_total = 0;
        std::size_t receive_total = 0;
        for (std::size_t r = 0; r < ranks; ++r) {
            send_displacements[r] = static_cast<int>(send_total);
            receive_displacements[r] = static_cast<int>(receive_total);
            send_total += send_chunk[r];
            receive_total += receive_chunk[r];
        }
        if (send_total > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
            receive_total > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
            throw Error("all_to_all: one round exceeds 2 GiB; lower the per-rank batch size");
        }
        // Every byte of both buffers is written before it is read: no zero-filling.
        const auto send_buffer = std::make_unique_for_overwrite<std::uint8_t[]>(send_total);
        const auto receive_buffer = std::make_unique_for_overwrite<std::uint8_t[]>(receive_total);
        for (std::size_t r = 0; r < ranks; ++r) {
            std::copy_n(outgoing[r].begin() + static_cast<std::ptrdiff_t>(
                                                  std::min<std::uint64_t>(offset, send_sizes[r])),
                        send_chunk[r], send_buffer.get() + send_displacements[r]);
        }
        const auto send_counts = counts_of(send_chunk);
        const auto receive_counts = counts_of(receive_chunk);
        collective("MPI_Ialltoallv", [&](MPI_Request* request) {
            return MPI_Ialltoallv(send_buffer.get(), send_counts.data(), send_displacements.data(),
                                  MPI_BYTE, receive_buffer.get(), receive_counts.data(),
                                  receive_displacements.data(), MPI_BYTE, comm_, request);
        });
        // Rounds arrive in offset order: each appends to its message.
        for (std::size_t r = 0; r < ranks; ++r) {
            const std::uint8_t* chunk = receive_buffer.get() + receive_displacements[r];
            incoming[r].insert(incoming[r].end(), chunk, chunk + receive_chunk[r]);
        }
        if (largest == 0) break;
    }
    return incoming;
}

}  // namespace synshard::mpi
