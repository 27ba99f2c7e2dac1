#pragma once

#include <filesystem>
#include <string>

#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

namespace synshard {

// Why an output lock was not acquired. Each kind is a failure of the run; the kind lets
// a caller tell another run from a file system or permission problem.
class OutputLockError : public Error {
  public:
    enum class Kind {
        held,         // another open of the lock file holds it: a live process somewhere
        unsupported,  // the file system refuses file locks (ENOLCK, ENOSYS, EOPNOTSUPP)
        permission,   // the lock file cannot be opened or created (EACCES, EPERM)
    };

    OutputLockError(Kind kind, const std::string& message) : Error(message), kind_(kind) {}
    Kind kind() const noexcept { return kind_; }

  private:
    Kind kind_;
};

// Only one conversion may write an output directory at a time. The lock is an
// open-file-description lock (fcntl F_OFD_SETLK, a write lock on the whole file) on
// `DIR/.synshard.lock`, held while the object lives and released by the kernel when the
// process ends, however it ends: there are no stale locks to take over, so two runs can
// never both hold it. On a shared file system the lock is as global as the file system's
// locks are (see docs/CLUSTER.md).
//
// The file is created if missing and never removed: a run that has opened it but not yet
// locked it would otherwise lock a file nobody else sees. Its content is for messages
// only: each holder rewrites it as one line "HOST PID START\n", START being the UTC time
// it took the lock (ISO 8601, e.g. 2024-05-01T12:00:00Z).
class OutputLock {
  public:
    // Acquires the lock of `directory`, which must exist. Throws OutputLockError when
    // another open of the file holds the lock (kind held: the message names the holder
    // as its file says, or says the file is empty or garbage, and how to recover), when
    // the file system does not support the lock (kind unsupported: the message names the
    // file system and offers --no-lock), or when the file cannot be opened or created
    // for lack of permission (kind permission). Throws Error on any other failure (the
    // lock path is not a regular file, I/O errors).
    explicit OutputLock(const std::filesystem::path& directory);
    // Closing the file releases the lock; never throws.
    ~OutputLock() = default;
    OutputLock(const OutputLock&) = delete;
    OutputLock& operator=(const OutputLock&) = delete;

    static std::filesystem::path lock_path(const std::filesystem::path& directory);

    // The message of an unsupported lock: `errno_value` (ENOLCK, ENOSYS, ...) from
    // locking `lock_file`, the type and mount point of the file system holding it (from
    // /proc/self/mountinfo, else statfs), and the --no-lock way out. Public so that tests
    // can check it on file systems that do support locks.
    static std::string unsupported_message(const std::filesystem::path& lock_file, int errno_value);

  private:
    std::filesystem::path path_;
    // The lock file's descriptor: closing it is what releases the lock.
    UniqueFd descriptor_;
};

}  // namespace synshard
