#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace synshard::mpi {

// Throws Error("<what>: <MPI error string>") when code is not MPI_SUCCESS.
void check(int code, const char* what);

// The tool's own communicator: a duplicate of its parent, so that the tool's messages
// never match anyone else's. Owns the handle and frees it without throwing.
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

  private:
    MPI_Comm comm_ = MPI_COMM_NULL;
    int rank_ = 0;
    int size_ = 1;
};

}  // namespace synshard::mpi
