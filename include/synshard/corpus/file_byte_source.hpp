#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "synshard/corpus/byte_source.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::corpus {

// A plain file as a ByteSource, read with pread: an uncompressed outer archive, walked
// and read in place by every rank at once.
class FileByteSource : public ByteSource {
  public:
    // Opens the file with O_NONBLOCK after no lstat, so a FIFO named like a tar never
    // blocks; throws ArchiveError if it cannot be opened or is not a regular file. Size
    // and modification time are fstat's at that moment.
    explicit FileByteSource(const std::filesystem::path& path);

    // Throws ArchiveError naming the file on a read error; a short count only at the end
    // of the file (which may have shrunk since it was opened).
    std::size_t read_at(std::uint64_t offset, std::span<std::uint8_t> buffer) override;
    std::uint64_t size() const override { return size_; }
    const std::string& name() const override { return name_; }

    std::int64_t mtime_ns() const { return mtime_ns_; }
    // For read-ahead hints (posix_fadvise) only.
    int fd() const { return fd_.get(); }

  private:
    std::string name_;
    UniqueFd fd_;
    std::uint64_t size_ = 0;
    std::int64_t mtime_ns_ = 0;
};

}  // namespace synshard::corpus
