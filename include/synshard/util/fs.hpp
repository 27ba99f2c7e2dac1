#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace synshard {

// Owns a POSIX file descriptor (-1: none). Move-only; the destructor closes it and never
// throws, so an error close() reports there is lost: a descriptor written to is closed
// with close_checked() first.
class UniqueFd {
  public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const noexcept { return fd_; }

    // Closes now, ignoring what close() reports.
    void reset() noexcept;

    // Closes now; throws Error naming `path` when close() reports an error (ENOSPC, EIO
    // on NFS: data written earlier did not reach the file).
    void close_checked(const std::filesystem::path& path);

  private:
    int fd_ = -1;
};

// open(2) with O_CLOEXEC added to `flags`. Throws Error naming the path on failure.
UniqueFd open_checked(const std::filesystem::path& path, int flags, mode_t mode = 0);

// The absolute path with every symbolic link of its existing part resolved, "." and ".."
// folded and no trailing separator: "out", "./out", "out/" and "/abs/out" give the same.
std::filesystem::path canonical_path(const std::filesystem::path& path);

// Whether inner is outer or lies inside it (both canonical).
bool is_same_or_inside(const std::filesystem::path& inner, const std::filesystem::path& outer);

// write(2) until all `size` bytes are written, retrying after EINTR. Throws Error naming
// the path on failure.
void write_all(int fd, const std::uint8_t* data, std::size_t size,
               const std::filesystem::path& path);

// pwrite(2) of all of `bytes` at `offset`, retrying after EINTR. Throws Error naming the
// path on failure.
void write_at(int fd, std::span<const std::uint8_t> bytes, std::uint64_t offset,
              const std::filesystem::path& path);

// pread(2) from `offset` until `buffer` is full or the file ends, retrying after EINTR.
// Returns how many bytes were read (fewer only at the end of the file), or -1 with errno
// set by the failed read.
ssize_t pread_full(int fd, std::span<std::uint8_t> buffer, std::uint64_t offset) noexcept;

// pread_full that throws Error naming `path` and errno on a read error.
std::size_t read_at(int fd, std::span<std::uint8_t> buffer, std::uint64_t offset,
                    const std::filesystem::path& path);

// Reads a whole regular file. Throws Error naming the path on any failure.
std::vector<std::uint8_t> read_file(const std::filesystem::path& path);

// How many pages of a file's first `bytes` bytes the page cache holds (mincore(2) over a
// read-only mapping; a page partly inside counts whole). Throws Error naming the path.
std::uint64_t cached_pages(const std::filesystem::path& path, std::uint64_t bytes);

// fsync() on a directory, so that a rename inside it survives a crash.
void fsync_directory(const std::filesystem::path& directory);

// The temporary name a file is written under before it is published: "<path>.tmp".
std::filesystem::path temporary_path_for(const std::filesystem::path& final_path);

}  // namespace synshard
