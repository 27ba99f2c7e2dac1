#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

#include "synshard/util/fs.hpp"

namespace synshard {

// A file written a part at a time, under its temporary name (temporary_path_for) until
// publish(): a reader of `path` sees the old file or the whole new one, never a part. A
// writer destroyed unpublished (a failed write, a rank's phase failing) removes its
// temporary file.
class AtomicFileWriter {
  public:
    // Creates the temporary file. A file already there (LeftoverTemporary) is replaced
    // only when it is synshard's; otherwise Error names it and says why. Throws Error
    // naming the temporary file on any other failure.
    explicit AtomicFileWriter(std::filesystem::path path,
                              LeftoverTemporary leftover = LeftoverTemporary::refuse);
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    // Appends bytes. Throws Error naming the temporary file on failure.
    void write(std::span<const std::uint8_t> bytes);
    // write() past the page cache (PageCache::bypass): whole 4 KiB blocks go through an
    // aligned buffer with O_DIRECT, the rest as write() does, and so does everything
    // where the file system refuses O_DIRECT.
    void write_uncached(std::span<const std::uint8_t> bytes);
    // How many bytes were written so far.
    std::uint64_t written() const { return written_; }
    // fsyncs and closes the temporary file, renames it over `path` and fsyncs the folder.
    void publish();

  private:
    std::filesystem::path path_;
    std::filesystem::path temporary_;
    UniqueFd fd_;
    std::uint64_t written_ = 0;
    bool published_ = false;
};

}  // namespace synshard
