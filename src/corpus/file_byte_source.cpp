#include "synshard/corpus/file_byte_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mtime.hpp"
#include "synshard/corpus/archive.hpp"

namespace synshard::corpus {

FileByteSource::FileByteSource(const std::filesystem::path& path) : name_(path.string()) {
    try {
        fd_ = open_checked(path, O_RDONLY | O_NONBLOCK);
    } catch (const Error& error) {
        throw ArchiveError(error.what());
    }
    struct stat status {};
    if (::fstat(fd_.get(), &status) != 0 || !S_ISREG(status.st_mode)) {
        throw ArchiveError(name_ + " is not a regular file");
    }
    size_ = static_cast<std::uint64_t>(status.st_size);
    mtime_ns_ = corpus::mtime_ns(status);
}

std::size_t FileByteSource::read_at(std::uint64_t offset, std::span<std::uint8_t> buffer) {
    const ssize_t got = pread_full(fd_.get(), buffer, offset);
    if (got < 0) {
        throw ArchiveError("reading " + name_ + " at offset " + std::to_string(offset) + ": " +
                           std::strerror(errno));
    }
    return static_cast<std::size_t>(got);
}

}  // namespace synshard::corpus
