#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "synshard/util/bytes.hpp"

namespace synshard::mpi {

// Throws Error("<what>: <MPI error string>") when code is not MPI_SUCCESS.
void check(int code, const char* what);

// The tool's own communicator: a duplicate of its parent, so that the tool's messages
// never match anyone else's. Owns the handle and frees it without throwing. Its
// collectives wait for the other ranks without spinning (wait.hpp).
class Comm {
  public:
    // Duplicates parent (MPI_COMM_WORLD by default). Collective over parent.
    explicit Comm(MPI_Comm parent = MPI_COMM_WORLD);
    ~Comm();
    Comm(const Comm&) = delete;
    Comm& operator=(const Comm&) = delete;

    MPI_Comm get() const { return comm_; }
    int rank() const { return rank_; }
    int size() const { return size_; }
    bool is_root() const { return rank_ == 0; }

    void barrier() const;

    // Reductions over all ranks; every rank gets the result.
    std::uint64_t sum(std::uint64_t value) const;
    std::int64_t max(std::int64_t value) const;
    std::int64_t min(std::int64_t value) const;
    double sum(double value) const;
    // Element-wise sum of equally sized vectors.
    std::vector<std::uint64_t> sum(std::span<const std::uint64_t> values) const;
    std::vector<double> sum(std::span<const double> values) const;

    // Root receives every rank's bytes in rank order; other ranks receive an empty vector.
    std::vector<std::vector<std::uint8_t>> gather(std::span<const std::uint8_t> bytes,
                                                  int root = 0) const;
    // Every rank receives every rank's bytes in rank order.
    std::vector<std::vector<std::uint8_t>> all_gather(std::span<const std::uint8_t> bytes) const;
    // Root's bytes, on every rank.
    std::vector<std::uint8_t> broadcast(std::span<const std::uint8_t> bytes, int root = 0) const;
    std::string broadcast(const std::string& text, int root = 0) const;
    // outgoing[r] goes to rank r; the result's [r] came from rank r. Handles any size
    // (messages over 2 GiB are split). The message to this rank itself is moved into the
    // result, not copied, when the caller moves `outgoing` in.
    std::vector<std::vector<std::uint8_t>> all_to_all(
        std::vector<std::vector<std::uint8_t>> outgoing) const;

    // Sends each item to the rank a function picks (what mpifileutils' mfu_flist_remap
    // does for file lists): item i of `count` is encoded by write(writer, i) into the
    // message for rank rank_of(i). Returns what arrived here, by origin rank; read it with
    // for_each_routed(), inside the phase that uses it, so that a torn message fails the
    // phase on every rank. With bytes_of(i), an upper bound of item i's encoded size, each
    // message is allocated once (for messages of many megabytes).
    template <class RankOf, class Write, class BytesOf = std::nullptr_t>
    std::vector<std::vector<std::uint8_t>> route(std::size_t count, RankOf&& rank_of, Write&& write,
                                                 BytesOf&& bytes_of = nullptr) const {
        std::vector<ByteWriter> writers(static_cast<std::size_t>(size_));
        if constexpr (!std::is_null_pointer_v<std::remove_cvref_t<BytesOf>>) {
            std::vector<std::size_t> bytes(writers.size(), 0);
            for (std::size_t i = 0; i < count; ++i)
                bytes[static_cast<std::size_t>(rank_of(i))] += bytes_of(i);
            for (std::size_t rank = 0; rank < writers.size(); ++rank)
                writers[rank].reserve(bytes[rank]);
        }
        for (std::size_t i = 0; i < count; ++i) {
            write(writers[static_cast<std::size_t>(rank_of(i))], i);
        }
        std::vector<std::vector<std::uint8_t>> outgoing;
        outgoing.reserve(writers.size());
        for (auto& writer : writers) outgoing.push_back(std::move(writer.buffer()));
        return all_to_all(std::move(outgoing));
    }

  private:
    void allreduce(const void* values, void* result, int count, MPI_Datatype type, MPI_Op op) const;

    MPI_Comm comm_ = MPI_COMM_NULL;
    int rank_ = 0;
    int size_ = 1;
};

// What for_each_routed does with a message it has read: frees it, or leaves it for
// items that still point into it.
enum class AfterReading { release, keep };

// Hands every item of a route() result to read(origin rank, reader), which consumes
// exactly one item: origins in rank order, each origin's items in the order it sent them.
template <class Read>
void for_each_routed(std::vector<std::vector<std::uint8_t>>& incoming, Read&& read,
                     AfterReading after = AfterReading::release) {
    for (std::size_t origin = 0; origin < incoming.size(); ++origin) {
        ByteReader reader(incoming[origin]);
        while (!reader.at_end()) read(static_cast<int>(origin), reader);
        if (after == AfterReading::release) incoming[origin] = {};
    }
}

}  // namespace synshard::mpi
