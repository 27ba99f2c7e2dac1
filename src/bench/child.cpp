#include "synshard/bench/child.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <sstream>

#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

extern char** environ;

namespace synshard::bench {
namespace {

bool is_launcher_variable(const std::string& entry) {
    // A child started from inside an MPI process must not believe it is part of this job.
    if (entry.starts_with("OMPI_ALLOW_RUN_AS_ROOT")) return false;
    return entry.starts_with("OMPI_") || entry.starts_with("PMIX_") || entry.starts_with("PMI_") ||
           entry.starts_with("OPAL_") || entry.starts_with("ORTE_");
}

}  // namespace

ChildResult run_child(const std::vector<std::string>& argv) {
    if (argv.empty()) throw Error("run_child: no program");
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        if (!is_launcher_variable(*entry)) environment.emplace_back(*entry);
    }
    std::vector<char*> argv_pointers;
    argv_pointers.reserve(argv.size() + 1);
    for (const auto& arg : argv) argv_pointers.push_back(const_cast<char*>(arg.c_str()));
    argv_pointers.push_back(nullptr);
    std::vector<char*> env_pointers;
    env_pointers.reserve(environment.size() + 1);
    for (const auto& entry : environment) env_pointers.push_back(const_cast<char*>(entry.c_str()));
    env_pointers.push_back(nullptr);

    // Close-on-exec: the program keeps only the copies on its stdout and stderr (dup2
    // clears the flag), so the pipe reaches end of file when it exits.
    std::array<int, 2> pipe_fds{};
    if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) throw_system_error("pipe for " + argv[0], errno);
    UniqueFd read_end(pipe_fds[0]);
    UniqueFd write_end(pipe_fds[1]);
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) throw_system_error("fork for " + argv[0], errno);
    if (pid == 0) {
        ::dup2(write_end.get(), STDOUT_FILENO);
        ::dup2(write_end.get(), STDERR_FILENO);
        ::execve(argv_pointers[0], argv_pointers.data(), env_pointers.data());
        ::_exit(127);
    }
    write_end.reset();
    ChildResult result;
    std::array<char, 4096> buffer{};
    for (;;) {
        const ssize_t got = ::read(read_end.get(), buffer.data(), buffer.size());
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        result.output.append(buffer.data(), static_cast<std::size_t>(got));
    }
    // A child still writing after a read error gets SIGPIPE rather than blocking the wait.
    read_end.reset();
    int status = 0;
    rusage usage{};
    while (::wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) throw_system_error("wait4 for " + argv[0], errno);
    }
    result.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.peak_rss_bytes = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
    return result;
}

std::filesystem::path find_mpi_launcher() {
    const char* path = std::getenv("PATH");
    for (const char* name : {"mpirun", "mpiexec"}) {
        std::istringstream directories(path != nullptr ? path : "/usr/bin");
        std::string directory;
        while (std::getline(directories, directory, ':')) {
            auto candidate = std::filesystem::path(directory.empty() ? "." : directory) / name;
            if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        }
    }
    throw Error("neither mpirun nor mpiexec is on PATH");
}

std::vector<std::string> mpi_command(const std::filesystem::path& launcher, int ranks,
                                     const std::filesystem::path& program,
                                     const std::vector<std::string>& args) {
    std::vector<std::string> argv{launcher.string(), "-np", std::to_string(ranks),
                                  "--oversubscribe"};
    if (::geteuid() == 0) argv.emplace_back("--allow-run-as-root");
    argv.push_back(program.string());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

}  // namespace synshard::bench
