#include "synshard/util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "synshard/util/error.hpp"

namespace synshard {
namespace {

// O_DIRECT wants the buffer, the length and the offset in whole logical blocks, which are
// at most 4 KiB on the disks and parallel file systems synshard writes to.
constexpr std::size_t kDirectBlock = 4096;

bool set_direct(int fd, bool direct) {
    const int flags = ::fcntl(fd, F_GETFL);
    return flags >= 0 && ::fcntl(fd, F_SETFL, direct ? flags | O_DIRECT : flags & ~O_DIRECT) == 0;
}

}  // namespace

// Created, not opened, unless the caller knows a file there is synshard's: it may be a
// user's, or another process's writing the same path, and synshard overwrites no file it
// did not write. Nor is a symbolic link there followed to truncate what it points to.
AtomicFileWriter::AtomicFileWriter(std::filesystem::path path, LeftoverTemporary leftover)
    : path_(std::move(path)), temporary_(temporary_path_for(path_)) {
    const int existing = leftover == LeftoverTemporary::replace ? O_TRUNC | O_NOFOLLOW : O_EXCL;
    fd_ = UniqueFd(::open(temporary_.c_str(), O_WRONLY | O_CREAT | existing | O_CLOEXEC, 0644));
    if (fd_.get() >= 0) return;
    if (errno == EEXIST) {
        throw Error(temporary_.string() + " already exists: synshard writes " + path_.string() +
                    " through it and overwrites no file it did not write; remove it if an "
                    "interrupted synshard left it");
    }
    throw_system_error("creating " + temporary_.string(), errno);
}

AtomicFileWriter::~AtomicFileWriter() {
    if (published_) return;
    fd_.reset();
    std::error_code ignored;
    std::filesystem::remove(temporary_, ignored);
}

void AtomicFileWriter::write(std::span<const std::uint8_t> bytes) {
    write_all(fd_.get(), bytes.data(), bytes.size(), temporary_);
    written_ += bytes.size();
}

void AtomicFileWriter::write_uncached(std::span<const std::uint8_t> bytes) {
    const bool aligned = reinterpret_cast<std::uintptr_t>(bytes.data()) % kDirectBlock == 0;
    if (aligned && written_ % kDirectBlock == 0 && bytes.size() >= kDirectBlock &&
        set_direct(fd_.get(), true)) {
        while (bytes.size() >= kDirectBlock) {
            const std::size_t blocks = bytes.size() / kDirectBlock * kDirectBlock;
            const ssize_t written = ::write(fd_.get(), bytes.data(), blocks);
            if (written < 0 && errno == EINTR) continue;
            // EINVAL: the file system took the flag but not these writes; the buffered
            // path below writes what is left.
            if (written < 0 && errno == EINVAL) break;
            if (written < 0) throw_system_error("writing " + temporary_.string(), errno);
            written_ += static_cast<std::uint64_t>(written);
            bytes = bytes.subspan(static_cast<std::size_t>(written));
            if (static_cast<std::size_t>(written) % kDirectBlock != 0) break;  // a short write
        }
        if (!set_direct(fd_.get(), false)) {
            throw_system_error("clearing O_DIRECT on " + temporary_.string(), errno);
        }
    }
    write(bytes);
}

// After a crash either the old file or the complete new one is visible: the data is on
// disk before the rename, and the rename is before publish() returns.
void AtomicFileWriter::publish() {
    if (::fsync(fd_.get()) != 0) throw_system_error("fsync " + temporary_.string(), errno);
    fd_.close_checked(temporary_);
    if (::rename(temporary_.c_str(), path_.c_str()) != 0) {
        throw_system_error("renaming " + temporary_.string() + " to " + path_.string(), errno);
    }
    published_ = true;
    fsync_directory(path_.parent_path());
}

LeftoverTemporary leftover_if_it_begins_with(const std::filesystem::path& temporary,
                                             std::span<const std::uint8_t> magic) {
    const UniqueFd fd(::open(temporary.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC));
    struct stat status {};
    if (fd.get() < 0 || ::fstat(fd.get(), &status) != 0 || !S_ISREG(status.st_mode)) {
        return LeftoverTemporary::refuse;
    }
    std::vector<std::uint8_t> start(magic.size());
    const ssize_t got = pread_full(fd.get(), start, 0);
    const bool ours = got == static_cast<ssize_t>(magic.size()) &&
                      std::equal(start.begin(), start.end(), magic.begin());
    return ours ? LeftoverTemporary::replace : LeftoverTemporary::refuse;
}

void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes,
                           PublishOptions options) {
    AtomicFileWriter file(path, options.leftover);
    if (options.cache == PageCache::bypass) {
        file.write_uncached(bytes);
    } else {
        file.write(bytes);
    }
    file.publish();
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text,
                           PublishOptions options) {
    write_file_atomically(
        path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), options);
}

}  // namespace synshard
