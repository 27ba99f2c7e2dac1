#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "synshard/util/fs.hpp"

namespace synshard::reader {

class PixelPool;

// A batch's pixels: size() bytes of shared memory (a memfd mapping) lent by a PixelPool,
// which takes the memory back for a later batch when this is destroyed. A copy is other
// memory of the same pool with the same bytes (and is not shared).
class Pixels {
  public:
    Pixels() noexcept;
    ~Pixels();
    Pixels(Pixels&& other) noexcept;
    Pixels& operator=(Pixels&& other) noexcept;
    Pixels(const Pixels& other);
    Pixels& operator=(const Pixels& other);

    std::uint8_t* data() const noexcept;
    std::size_t size() const noexcept { return size_; }
    std::uint8_t* begin() const noexcept { return data(); }
    std::uint8_t* end() const noexcept { return data() + size_; }

    // A file descriptor of this memory for another process to map (sent over a Unix
    // socket, as torch's DataLoader sends a worker's tensors): a new open file
    // description of it, owned by this Pixels and closed with it. While that description
    // is open anywhere, in any process (a descriptor dup()ed or received from it, or a
    // mapping made through one), the pool does not lend the memory again, so whoever
    // received it keeps reading this batch. Throws Error when /proc/self/fd cannot be
    // opened.
    int share();

    // The same bytes.
    friend bool operator==(const Pixels& a, const Pixels& b);

  private:
    friend class PixelPool;
    struct Buffer;

    std::unique_ptr<Buffer> buffer_;
    std::shared_ptr<PixelPool> pool_;
    std::size_t size_ = 0;
    UniqueFd shared_;
};

// Memory for batches, kept and lent again: a batch's pixels written into memory pages
// already in place cost no page faults and no zeroing (a fresh 9.6 MB batch costs
// thousands of each), and memory in a memfd crosses a process boundary as a file
// descriptor, without a copy (Pixels::share()). Thread-safe. A pool lends its memory only
// in the process that made it: a forked child's copy makes new memory (a fork shares
// the mappings).
class PixelPool : public std::enable_shared_from_this<PixelPool> {
  public:
    // Keeps at most `keep` returned buffers for reuse (beyond them, returned memory is freed).
    explicit PixelPool(std::size_t keep);
    ~PixelPool();
    PixelPool(const PixelPool&) = delete;
    PixelPool& operator=(const PixelPool&) = delete;

    // `bytes` bytes (at least 1): a kept buffer that large which no other process holds,
    // else new memory (zeroed). The contents of reused memory are the previous batch's.
    // Throws Error when no memory can be made.
    Pixels lend(std::size_t bytes);

  private:
    friend class Pixels;
    void give_back(std::unique_ptr<Pixels::Buffer> buffer) noexcept;

    const std::size_t keep_;
    const pid_t pid_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Pixels::Buffer>> kept_;  // oldest first
};

}  // namespace synshard::reader
