#include "support/test_support.hpp"

#include <mpi.h>

#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "synshard/bench/child.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::testing {
namespace {

// The child runs with the MPI launcher's variables removed, so that a test inside an
// MPI rank can start a job of its own.
ProcessResult run_process(const std::vector<std::string>& argv) {
    bench::ChildResult child = bench::run_child(argv);
    return {child.exit_code, std::move(child.output)};
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
    return run_process(
        bench::mpi_command(bench::find_mpi_launcher(), ranks, SYNSHARD_EXECUTABLE, args));
}

ProcessResult run_shell(const std::string& command) {
    return run_process({"/bin/sh", "-c", command});
}

std::filesystem::path test_data_dir() {
    if (const char* dir = std::getenv("SYNSHARD_TEST_DATA")) return dir;
    return std::filesystem::path(SYNSHARD_SOURCE_DIR) / "tests" / "data";
}

std::string read_text(const std::filesystem::path& path) {
    const auto bytes = read_file(path);
    return {bytes.begin(), bytes.end()};
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);) lines.push_back(line);
    return lines;
}

std::map<std::string, std::string> file_digests(const std::filesystem::path& root) {
    std::map<std::string, std::string> result;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        if (!entry.is_regular_file()) continue;
        result[std::filesystem::relative(entry.path(), root).generic_string()] =
            to_hex(sha256(read_file(entry.path())));
    }
    return result;
}

}  // namespace synshard::testing
