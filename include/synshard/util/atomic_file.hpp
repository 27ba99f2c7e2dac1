#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

#include "synshard/util/fs.hpp"

namespace synshard {

// What a file already at a published file's temporary name ("<path>.tmp") is taken for.
enum class LeftoverTemporary {
    // Anyone's (a user's file, or another process writing the same path): left as it is,
    // and the write refused.
    refuse,
    // synshard's own, cut short: inside OUT, where a "<name>.tmp" of synshard's names is
    // synshard's by OUT's rules, or a file that begins with the magic of the file it stands for.
    replace,
};

// `replace` when the file at `temporary` begins with `magic` (a synshard index cut short),
// else `refuse`.
LeftoverTemporary leftover_if_it_begins_with(const std::filesystem::path& temporary,
                                             std::span<const std::uint8_t> magic);

// Whether a published file's bytes are also left in the page cache.
enum class PageCache {
    fill,
    // Past the page cache (O_DIRECT) where the file system takes it: for a large file
    // written once and fsynced at once, copying it into the cache costs more CPU than
    // the disk's own write, and no reader in this process needs it there.
    bypass,
};

struct PublishOptions {
    LeftoverTemporary leftover = LeftoverTemporary::refuse;
    PageCache cache = PageCache::fill;
};

// Writes bytes to "<path>.tmp", checks every step, then publishes it under path
// (AtomicFileWriter). On failure the temporary file is removed and Error names the path
// and errno.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes,
                           PublishOptions options = {});
void write_file_atomically(const std::filesystem::path& path, std::string_view text,
                           PublishOptions options = {});

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
    // write() past the page cache (PageCache::bypass): from memory aligned to 4 KiB (a
    // mapping's pages), the whole 4 KiB blocks are written with O_DIRECT, the rest as
    // write() does. Other memory, and everything where the file system refuses O_DIRECT,
    // goes through the page cache: O_DIRECT takes aligned memory only, and copying into
    // an aligned buffer would cost what bypassing the cache saves.
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
