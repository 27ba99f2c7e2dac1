#pragma once

#include <filesystem>
#include <string>

namespace synshard {

// Only one conversion may write an output directory at a time. The lock is a file
// `DIR/.synshard.lock` created with O_EXCL and holding "host pid"; it is removed when
// the object dies. A lock left by a dead process on this host is taken over; a live
// holder (or one on another host, which cannot be checked) makes acquisition fail with
// an Error naming it.
class OutputLock {
  public:
    explicit OutputLock(const std::filesystem::path& directory);
    ~OutputLock();
    OutputLock(const OutputLock&) = delete;
    OutputLock& operator=(const OutputLock&) = delete;

    static std::filesystem::path lock_path(const std::filesystem::path& directory);

  private:
    std::filesystem::path path_;
};

}  // namespace synshard
