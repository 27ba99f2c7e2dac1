#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "synshard/util/error.hpp"

namespace synshard::corpus {

// A tar (optionally gzip/bzip2/xz compressed) that cannot be read on: corrupt, truncated,
// or not an archive at all. The message is libarchive's, or a description when libarchive
// gives none (a truncated tar may fail with a NULL error string).
class ArchiveError : public Error {
  public:
    using Error::Error;
};

// One member header, as the archive declares it (nothing is trusted yet).
struct MemberHeader {
    enum class Type { regular, directory, symlink, hardlink, other };
    std::string path;
    Type type = Type::other;
    // The size the header declares; read_data() refuses more than the caller's cap.
    std::int64_t declared_size = 0;
    // The modification time the header declares, in nanoseconds since the epoch (whole
    // seconds in a ustar header, finer in a pax one); 0 when it declares none.
    std::int64_t mtime_ns = 0;
};

// Reads an archive member by member, into memory: nothing is ever extracted to disk.
// The file is opened with O_NONBLOCK after an lstat-free fstat check, so a FIFO named
// like a tar never blocks; anything but a regular file is an ArchiveError.
class ArchiveReader {
  public:
    // Throws ArchiveError if the file cannot be opened or is not a regular file.
    explicit ArchiveReader(const std::filesystem::path& path);
    ~ArchiveReader();
    ArchiveReader(const ArchiveReader&) = delete;
    ArchiveReader& operator=(const ArchiveReader&) = delete;

    // The next member's header, or nullopt at the archive's clean end. Throws ArchiveError.
    std::optional<MemberHeader> next();
    // The current member's bytes. The caller has checked the declared size against its
    // cap; reading stops with ArchiveError if the data turns out longer than declared or
    // the archive breaks.
    std::vector<std::uint8_t> read_data(std::int64_t declared_size);

    const std::filesystem::path& path() const { return path_; }
    // The archive file's size and modification time (ns), from fstat when it was opened.
    std::uint64_t file_size() const { return file_size_; }
    std::int64_t file_mtime_ns() const { return file_mtime_ns_; }

  private:
    [[noreturn]] void fail(const std::string& doing) const;

    std::filesystem::path path_;
    std::uint64_t file_size_ = 0;
    std::int64_t file_mtime_ns_ = 0;
    struct Handle;
    std::unique_ptr<Handle> handle_;
};

// True for a member path that could escape the folder it would be extracted to: absolute,
// or with a ".." component.
bool is_unsafe_member_path(const std::string& path);

}  // namespace synshard::corpus
