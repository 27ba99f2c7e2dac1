#include "synshard/util/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "synshard/util/error.hpp"

namespace synshard {

AtomicFileWriter::AtomicFileWriter(std::filesystem::path path)
    : path_(std::move(path)),
      temporary_(temporary_path_for(path_)),
      fd_(open_checked(temporary_, O_WRONLY | O_CREAT | O_TRUNC, 0644)) {}

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

}  // namespace synshard
