#include "synshard/util/fs.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "synshard/util/error.hpp"

namespace synshard {

void write_all(int fd, const std::uint8_t* data, std::size_t size,
               const std::filesystem::path& path) {
    while (size > 0) {
        const ssize_t written = ::write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR) continue;
            throw_system_error("writing " + path.string(), errno);
        }
        data += written;
        size -= static_cast<std::size_t>(written);
    }
}

void write_at(int fd, std::span<const std::uint8_t> bytes, std::uint64_t offset,
              const std::filesystem::path& path) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t written = ::pwrite(fd, bytes.data() + done, bytes.size() - done,
                                         static_cast<off_t>(offset + done));
        if (written < 0) {
            if (errno == EINTR) continue;
            throw_system_error("writing " + path.string(), errno);
        }
        done += static_cast<std::size_t>(written);
    }
}

ssize_t pread_full(int fd, std::span<std::uint8_t> buffer, std::uint64_t offset) noexcept {
    std::size_t done = 0;
    while (done < buffer.size()) {
        const ssize_t got = ::pread(fd, buffer.data() + done, buffer.size() - done,
                                    static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return -1;
        if (got == 0) break;
        done += static_cast<std::size_t>(got);
    }
    return static_cast<ssize_t>(done);
}

std::size_t read_at(int fd, std::span<std::uint8_t> buffer, std::uint64_t offset,
                    const std::filesystem::path& path) {
    const ssize_t got = pread_full(fd, buffer, offset);
    if (got < 0) throw_system_error("reading " + path.string(), errno);
    return static_cast<std::size_t>(got);
}

void UniqueFd::reset() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

void UniqueFd::close_checked(const std::filesystem::path& path) {
    if (::close(std::exchange(fd_, -1)) != 0) throw_system_error("closing " + path.string(), errno);
}

UniqueFd open_checked(const std::filesystem::path& path, int flags, mode_t mode) {
    UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, mode));
    if (fd.get() < 0) throw_system_error("opening " + path.string(), errno);
    return fd;
}

std::filesystem::path canonical_path(const std::filesystem::path& path) {
    std::error_code error;
    std::filesystem::path resolved =
        std::filesystem::weakly_canonical(std::filesystem::absolute(path), error);
    if (error) resolved = std::filesystem::absolute(path).lexically_normal();
    if (!resolved.has_filename() && resolved.has_relative_path()) resolved = resolved.parent_path();
    return resolved;
}

bool is_same_or_inside(const std::filesystem::path& inner, const std::filesystem::path& outer) {
    return std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end()).first ==
           outer.end();
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
    UniqueFd fd = open_checked(path, O_RDONLY | O_NONBLOCK);
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) throw_system_error("stat " + path.string(), errno);
    if (!S_ISREG(info.st_mode)) throw Error("reading " + path.string() + ": not a regular file");
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(info.st_size));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t got = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw_system_error("reading " + path.string(), errno);
        }
        if (got == 0) break;
        done += static_cast<std::size_t>(got);
    }
    bytes.resize(done);
    return bytes;
}

std::uint64_t cached_pages(const std::filesystem::path& path, std::uint64_t bytes) {
    if (bytes == 0) return 0;  // mmap refuses an empty mapping
    const UniqueFd fd = open_checked(path, O_RDONLY);
    const auto length = static_cast<std::size_t>(bytes);
    void* mapping = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd.get(), 0);
    if (mapping == MAP_FAILED) throw_system_error("mmap " + path.string(), errno);
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> resident((length + page - 1) / page);
    const int status = ::mincore(mapping, length, resident.data());
    const int error = errno;
    ::munmap(mapping, length);
    if (status != 0) throw_system_error("mincore " + path.string(), error);
    return static_cast<std::uint64_t>(std::count_if(
        resident.begin(), resident.end(), [](unsigned char flags) { return (flags & 1) != 0; }));
}

void fsync_directory(const std::filesystem::path& directory) {
    UniqueFd fd = open_checked(directory.empty() ? "." : directory, O_RDONLY | O_DIRECTORY);
    if (::fsync(fd.get()) != 0) throw_system_error("fsync " + directory.string(), errno);
    fd.close_checked(directory);
}

std::filesystem::path temporary_path_for(const std::filesystem::path& final_path) {
    return std::filesystem::path(final_path.string() + ".tmp");
}

}  // namespace synshard
