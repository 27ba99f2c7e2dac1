#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace synshard::testing {

// A fresh directory under the system's temp dir, removed with everything in it when the
// object dies. In MPI tests every rank gets the root's directory (collective).
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

// What a command printed and returned when run as a separate `synshard` process.
struct ProcessResult {
    int exit_code = -1;
    std::string output;  // stdout and stderr, interleaved
};

// Runs the built synshard executable with args (no shell involved).
ProcessResult run_synshard(const std::vector<std::string>& args);

// Runs the built synshard executable under `mpiexec -n ranks` (with --oversubscribe,
// and --allow-run-as-root when root).
ProcessResult run_synshard_mpi(int ranks, const std::vector<std::string>& args);

// Runs a command line through /bin/sh and returns its exit code and output.
ProcessResult run_shell(const std::string& command);

// A whole file's bytes as a string. Throws Error naming the path when it cannot be read.
std::string read_text(const std::filesystem::path& path);

// A text's lines, without their '\n'.
std::vector<std::string> lines_of(const std::string& text);

// relative path -> sha256 hex, for every regular file under root.
std::map<std::string, std::string> file_digests(const std::filesystem::path& root);

// Where test inputs checked into the repository live (tests/data).
std::filesystem::path test_data_dir();

}  // namespace synshard::testing
