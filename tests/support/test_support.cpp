#include "support/test_support.hpp"

#include <mpi.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <stdexcept>

extern char** environ;

namespace synshard::testing {
namespace {

bool is_launcher_variable(const std::string& entry) {
    // A child started from inside an MPI rank must not believe it is part of this job.
    if (entry.starts_with("OMPI_ALLOW_RUN_AS_ROOT")) return false;
    return entry.starts_with("OMPI_") || entry.starts_with("PMIX_") || entry.starts_with("PMI_") ||
           entry.starts_with("OPAL_") || entry.starts_with("ORTE_");
}

ProcessResult run_process(const std::vector<std::string>& argv) {
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        if (!is_launcher_variable(*entry)) environment.emplace_back(*entry);
    }
    std::vector<char*> argv_pointers;
    for (const auto& arg : argv) argv_pointers.push_back(const_cast<char*>(arg.c_str()));
    argv_pointers.push_back(nullptr);
    std::vector<char*> env_pointers;
    for (const auto& entry : environment) env_pointers.push_back(const_cast<char*>(entry.c_str()));
    env_pointers.push_back(nullptr);

    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::dup2(pipe_fds[1], STDOUT_FILENO);
        ::dup2(pipe_fds[1], STDERR_FILENO);
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        ::execve(argv_pointers[0], argv_pointers.data(), env_pointers.data());
        ::_exit(127);
    }
    ::close(pipe_fds[1]);
    ProcessResult result;
    std::array<char, 4096> buffer{};
    for (;;) {
        const ssize_t got = ::read(pipe_fds[0], buffer.data(), buffer.size());
        if (got <= 0) break;
        result.output.append(buffer.data(), static_cast<std::size_t>(got));
    }
    ::close(pipe_fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

}  // namespace

TempDir::TempDir() {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    std::string name;
    if (rank == 0) {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "synshard-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        name = pattern;
    }
    int length = static_cast<int>(name.size());
    MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
    name.resize(static_cast<std::size_t>(length));
    MPI_Bcast(name.data(), length, MPI_CHAR, 0, MPI_COMM_WORLD);
    path_ = name;
}

TempDir::~TempDir() {
    MPI_Barrier(MPI_COMM_WORLD);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
}

ProcessResult run_synshard(const std::vector<std::string>& args) {
    std::vector<std::string> argv{SYNSHARD_EXECUTABLE};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
}

ProcessResult run_synshard_mpi(int ranks, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/usr/bin/mpiexec", "-n", std::to_string(ranks),
                                  "--oversubscribe"};
    if (::geteuid() == 0) argv.emplace_back("--allow-run-as-root");
    argv.emplace_back(SYNSHARD_EXECUTABLE);
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
}

ProcessResult run_shell(const std::string& command) {
    return run_process({"/bin/sh", "-c", command});
}

std::filesystem::path test_data_dir() {
    if (const char* dir = std::getenv("SYNSHARD_TEST_DATA")) return dir;
    return std::filesystem::path(SYNSHARD_SOURCE_DIR) / "tests" / "data";
}

}  // namespace synshard::testing
