#include "synshard/util/output_lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

namespace synshard {
namespace {

std::string this_host() {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return name;
}

std::string utc_now() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[32] = {};
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

// The holder a lock file names: the line "HOST PID START\n" that write_holder() writes.
struct Holder {
    std::string host;
    long pid = 0;
    std::string started;
};

std::optional<Holder> parse_holder(const std::string& content) {
    static const std::regex holder_line(
        R"(([!-~]+) ([1-9][0-9]{0,9}) ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)\n)");
    std::smatch match;
    if (!std::regex_match(content, match, holder_line)) return std::nullopt;
    return Holder{match[1], std::stol(match[2]), match[3]};
}

// The start of a file that is not a holder's line, quoted, with every byte outside
// printable ASCII written as \xNN, so that a binary file cannot garble the terminal.
std::string quoted_prefix(const std::string& content) {
    constexpr std::size_t kShown = 40;
    std::string quoted = "\"";
    for (std::size_t i = 0; i < std::min(content.size(), kShown); ++i) {
        const auto byte = static_cast<unsigned char>(content[i]);
        if (byte >= 0x20 && byte < 0x7f && byte != '"' && byte != '\\') {
            quoted += static_cast<char>(byte);
        } else {
            char escaped[8] = {};
            std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
            quoted += escaped;
        }
    }
    quoted += '"';
    if (content.size() > kShown) quoted += "...";
    return quoted;
}

// The start of the lock file; a holder's line is far shorter than what is read.
struct LockFileStart {
    std::string bytes;
    int errno_value = 0;  // of a failed read, else 0
};

LockFileStart read_start(int fd) {
    LockFileStart start;
    std::array<std::uint8_t, 512> buffer{};
    const ssize_t filled = pread_full(fd, buffer, 0);
    if (filled < 0) {
        start.errno_value = errno;
        return start;
    }
    start.bytes.assign(buffer.begin(), buffer.begin() + filled);
    return start;
}

// A killed process stays a zombie until its parent (often init) reaps it; its files are
// closed by then, so it counts as gone.
bool is_running(long pid) {
    if (::kill(static_cast<pid_t>(pid), 0) != 0) return errno != ESRCH;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;  // no procfs: trust kill()
    // "pid (command) state ...": the command may hold spaces and parentheses.
    const auto state = line.rfind(')');
    return state == std::string::npos || state + 2 >= line.size() || line[state + 2] != 'Z';
}

// Names the holder as the lock file does, and how to recover. The kernel drops a lock
// when its holder's process ends, so a held lock always has a live holder: on this host,
// on another node of a shared file system, or a crashed node the file system has not
// evicted yet. The file may lag behind (its holder locks before it writes its name).
std::string held_message(const std::filesystem::path& lock_file, int fd) {
    std::ostringstream message;
    message << lock_file.parent_path().string() << " is being written by another run: its lock "
            << lock_file.string() << " is held";
    const LockFileStart start = read_start(fd);
    const std::optional<Holder> holder =
        start.errno_value == 0 ? parse_holder(start.bytes) : std::nullopt;
    if (start.errno_value != 0) {
        message << ", and the lock file cannot be read (" << std::strerror(start.errno_value)
                << ")";
    } else if (start.bytes.empty()) {
        message << ", but the lock file is empty: its holder is starting, or wrote nothing";
    } else if (!holder) {
        message << ", but the lock file is garbage, not a holder's name as synshard writes it: "
                << quoted_prefix(start.bytes);
    } else {
        message << " by host " << holder->host << ", pid " << holder->pid << ", started "
                << holder->started;
        if (holder->host == this_host() && !is_running(holder->pid)) {
            message << " (no pid " << holder->pid
                    << " runs on this host now: the lock has passed to a process that has not "
                       "written its name yet)";
        }
    }
    message << ". A lock is released when its holder ends, however it ends, so a live process "
               "holds this one. ";
    if (holder) {
        message << "Wait for that run to finish, or stop it. If no synshard run is active on "
                << holder->host << ", the lock is held by a process of another node";
    } else {
        message << "If no synshard run is writing this output on any node, the lock is held by "
                   "another process of this or another node";
    }
    message << " or a stale client of the file system (a crashed node it has not evicted yet): "
               "wait, stop that process, or remove "
            << lock_file.string() << ".";
    return message.str();
}

std::string permission_message(const std::filesystem::path& lock_file, int errno_value) {
    std::ostringstream message;
    struct stat status {};
    const bool exists = ::lstat(lock_file.c_str(), &status) == 0;
    const std::filesystem::path checked = exists ? lock_file : lock_file.parent_path();
    message << "cannot " << (exists ? "open" : "create") << " lock file " << lock_file.string()
            << ": " << std::strerror(errno_value)
            << ". This is a permission problem, not another run: check the owner and mode of "
            << (exists ? "the file" : "the directory " + checked.string());
    if (exists || ::stat(checked.c_str(), &status) == 0) {
        char mode[8] = {};
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
        message << " (owner uid " << status.st_uid << ", mode " << mode << ")";
    }
    message << ".";
    return message.str();
}

// mountinfo writes space, tab, newline and backslash in paths as \ooo (octal).
std::string unescape_mountinfo(const std::string& field) {
    std::string text;
    for (std::size_t i = 0; i < field.size(); ++i) {
        const bool octal_escape =
            field[i] == '\\' && i + 3 < field.size() &&
            std::all_of(field.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                        field.begin() + static_cast<std::ptrdiff_t>(i) + 4,
                        [](char digit) { return digit >= '0' && digit <= '7'; });
        if (octal_escape) {
            text += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
            i += 3;
        } else {
            text += field[i];
        }
    }
    return text;
}

bool is_inside(const std::string& path, const std::string& mount_point) {
    if (mount_point == "/") return true;
    return path == mount_point || (path.size() > mount_point.size() &&
                                   path.compare(0, mount_point.size(), mount_point) == 0 &&
                                   path[mount_point.size()] == '/');
}

// "TYPE at MOUNT_POINT" of the file system holding `path`: the longest mount point in
// /proc/self/mountinfo that contains it, the last listed where several share one (the
// later mount hides the earlier). Without procfs, statfs's type number.
std::string describe_file_system(const std::filesystem::path& path) {
    std::error_code error;
    std::filesystem::path resolved = std::filesystem::weakly_canonical(path, error);
    if (error) resolved = std::filesystem::absolute(path, error);
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string line;
    std::string best_type;
    std::string best_mount_point;
    // "ID PARENT MAJOR:MINOR ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - TYPE SOURCE OPTIONS"
    while (std::getline(mountinfo, line)) {
        std::istringstream fields(line);
        std::string id, parent, device, root, mount_point, field;
        if (!(fields >> id >> parent >> device >> root >> mount_point)) continue;
        while (fields >> field && field != "-") {
        }
        std::string type;
        if (!(fields >> type)) continue;
        mount_point = unescape_mountinfo(mount_point);
        if (is_inside(resolved.string(), mount_point) &&
            mount_point.size() >= best_mount_point.size()) {
            best_type = type;
            best_mount_point = mount_point;
        }
    }
    if (!best_type.empty()) return best_type + " at " + best_mount_point;
    struct statfs status {};
    if (::statfs(path.c_str(), &status) != 0) return "of unknown type";
    char type[32] = {};
    std::snprintf(type, sizeof type, "of type 0x%lx", static_cast<unsigned long>(status.f_type));
    return type;
}

// The holder truncates the file; O_NOFOLLOW keeps that from reaching, through a symlink,
// a file synshard did not write.
UniqueFd open_lock_file(const std::filesystem::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (fd.get() >= 0) return fd;
    const int open_errno = errno;
    if (open_errno == EACCES || open_errno == EPERM) {
        throw OutputLockError(OutputLockError::Kind::permission,
                              permission_message(path, open_errno));
    }
    if (open_errno == ELOOP) {
        throw Error(path.string() + " is a symbolic link, not a lock file synshard wrote; " +
                    "remove it if it is not yours, or choose another output");
    }
    throw_system_error("opening lock file " + path.string(), open_errno);
}

void lock_whole_file(int fd, const std::filesystem::path& path) {
    struct flock whole_file {};
    whole_file.l_type = F_WRLCK;
    whole_file.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file; l_pid must be 0
    while (::fcntl(fd, F_OFD_SETLK, &whole_file) != 0) {
        const int lock_errno = errno;
        if (lock_errno == EINTR) continue;
        if (lock_errno == EAGAIN || lock_errno == EACCES) {
            throw OutputLockError(OutputLockError::Kind::held, held_message(path, fd));
        }
        if (lock_errno == ENOLCK || lock_errno == ENOSYS || lock_errno == EOPNOTSUPP) {
            throw OutputLockError(OutputLockError::Kind::unsupported,
                                  OutputLock::unsupported_message(path, lock_errno));
        }
        throw_system_error("locking " + path.string(), lock_errno);
    }
}

// Truncate, then write: a reader in between sees an empty file, which it reports as a
// holder that is starting. fdatasync because other NFS clients see what this one wrote
// only once it is flushed (at close or fsync), and the descriptor stays open for the run.
void write_holder(int fd, const std::filesystem::path& path) {
    const std::string line =
        this_host() + " " + std::to_string(::getpid()) + " " + utc_now() + "\n";
    if (::ftruncate(fd, 0) != 0) throw_system_error("truncating " + path.string(), errno);
    write_at(fd, std::span(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()), 0,
             path);
    if (::fdatasync(fd) != 0) throw_system_error("syncing " + path.string(), errno);
}

}  // namespace

std::filesystem::path OutputLock::lock_path(const std::filesystem::path& directory) {
    return directory / ".synshard.lock";
}

std::string OutputLock::unsupported_message(const std::filesystem::path& lock_file,
                                            int errno_value) {
    return "cannot lock " + lock_file.string() + ": " + std::strerror(errno_value) +
           ". The file system holding " + lock_file.parent_path().string() + " (" +
           describe_file_system(lock_file.parent_path()) +
           ") does not support file locks there (e.g. Lustre mounted without flock, NFS "
           "without its lock service). Rerun with --no-lock if no other conversion can write "
           "this output.";
}

OutputLock::OutputLock(const std::filesystem::path& directory)
    : path_(lock_path(directory)), descriptor_(open_lock_file(path_)) {
    struct stat status {};
    if (::fstat(descriptor_.get(), &status) != 0) {
        throw_system_error("examining lock file " + path_.string(), errno);
    }
    if (!S_ISREG(status.st_mode)) {
        throw Error(path_.string() + " is not a regular file, not a lock file synshard wrote; " +
                    "remove it if it is not yours, or choose another output");
    }
    lock_whole_file(descriptor_.get(), path_);
    write_holder(descriptor_.get(), path_);
}

}  // namespace synshard
