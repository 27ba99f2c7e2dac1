#include "synshard/util/output_lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "synshard/util/error.hpp"

namespace synshard {
namespace {

std::string this_host() {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return name;
}

bool try_create(const std::filesystem::path& path, const std::string& holder) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST) return false;
        throw_system_error("creating lock " + path.string(), errno);
    }
    const ssize_t written = ::write(fd, holder.data(), holder.size());
    const int write_errno = errno;
    ::close(fd);
    if (written != static_cast<ssize_t>(holder.size())) {
        ::unlink(path.c_str());
        throw_system_error("writing lock " + path.string(), write_errno);
    }
    return true;
}

// A killed process stays a zombie until its parent (often init) reaps it; it holds no
// lock any more, so it counts as gone.
bool is_running(long pid) {
    if (::kill(static_cast<pid_t>(pid), 0) != 0) return errno != ESRCH;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;  // no procfs: trust kill()
    // "pid (command) state ...": the command may hold spaces and parentheses.
    const auto state = line.rfind(')');
    return state == std::string::npos || state + 2 >= line.size() || line[state + 2] != 'Z';
}

}  // namespace

std::filesystem::path OutputLock::lock_path(const std::filesystem::path& directory) {
    return directory / ".synshard.lock";
}

OutputLock::OutputLock(const std::filesystem::path& directory) : path_(lock_path(directory)) {
    const std::string host = this_host();
    const std::string holder = host + " " + std::to_string(::getpid()) + "\n";
    if (try_create(path_, holder)) return;

    std::ifstream existing(path_);
    std::string held_host;
    long held_pid = 0;
    existing >> held_host >> held_pid;
    const bool dead_here = held_host == host && held_pid > 0 && !is_running(held_pid);
    if (dead_here) {
        ::unlink(path_.c_str());
        if (try_create(path_, holder)) return;
    }
    std::ostringstream message;
    message << path_.parent_path().string() << " is being written by another conversion (host "
            << (held_host.empty() ? "?" : held_host) << ", pid " << held_pid << "; lock file "
            << path_.string() << ")";
    throw Error(message.str());
}

OutputLock::~OutputLock() {
    ::unlink(path_.c_str());
}

}  // namespace synshard
