#pragma once

// Shared by the fault tests: a small synth corpus, a one-rank conversion run as a separate
// process, and what a test needs to look at afterwards.

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace synshard::testing {

// "'text'" for /bin/sh, with embedded quotes escaped.
inline std::string shell_quote(const std::string& text) {
    std::string quoted = "'";
    for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

// Writes a clean synth corpus (no quirks) into dir; its layouts are dir/train (class
// folders), dir/train_tars (one tar per synset), dir/val, ... Throws on failure.
inline void make_synth_corpus(const std::filesystem::path& dir, int classes, int per_class) {
    const ProcessResult result =
        run_synshard({"synth", "--output", dir.string(), "--num-classes", std::to_string(classes),
                      "--per-class", std::to_string(per_class), "--val-per-class", "0"});
    if (result.exit_code != 0) throw std::runtime_error("synth failed: " + result.output);
}

// The shell words of a one-rank `synshard convert` of a train-only input.
inline std::string convert_command(const std::filesystem::path& input,
                                   const std::filesystem::path& output,
                                   const std::filesystem::path& scratch,
                                   const std::string& extra = "") {
    return shell_quote(SYNSHARD_EXECUTABLE) + " convert --quiet --input " +
           shell_quote(input.string()) + " --output " + shell_quote(output.string()) +
           " --scratch " + shell_quote(scratch.string()) + " " + extra;
}

// Every path under root (recursively) whose file name ends with suffix.
inline std::vector<std::filesystem::path> files_ending_with(const std::filesystem::path& root,
                                                            const std::string& suffix) {
    std::vector<std::filesystem::path> found;
    std::error_code error;
    for (auto it = std::filesystem::recursive_directory_iterator(root, error);
         it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
        if (it->path().filename().string().ends_with(suffix)) found.push_back(it->path());
    }
    return found;
}

inline nlohmann::json read_json(const std::filesystem::path& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

// The reasons the manifest gives for rejected keys that contain `needle`.
inline std::vector<std::string> rejected_reasons(const nlohmann::json& manifest,
                                                 const std::string& needle) {
    std::vector<std::string> reasons;
    for (const auto& rejection : manifest.at("rejected")) {
        if (rejection.at("key").get<std::string>().find(needle) != std::string::npos ||
            rejection.at("detail").get<std::string>().find(needle) != std::string::npos) {
            reasons.push_back(rejection.at("reason").get<std::string>());
        }
    }
    return reasons;
}

// A tmpfs of `size` mounted on `dir` for the object's lifetime (lazily unmounted).
class TmpfsMount {
  public:
    TmpfsMount(std::filesystem::path dir, const std::string& size) : dir_(std::move(dir)) {
        std::filesystem::create_directories(dir_);
        const std::string options = "size=" + size;
        mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0;
        if (!mounted_) error_ = std::strerror(errno);
    }
    ~TmpfsMount() {
        if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    TmpfsMount(const TmpfsMount&) = delete;
    TmpfsMount& operator=(const TmpfsMount&) = delete;

    bool mounted() const { return mounted_; }
    const std::string& error() const { return error_; }
    // Keeps the content.
    bool resize(const std::string& size) {
        const std::string options = "size=" + size;
        return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, options.c_str()) == 0;
    }

  private:
    std::filesystem::path dir_;
    bool mounted_ = false;
    std::string error_;
};

inline bool running_as_root() {
    return ::geteuid() == 0;
}

}  // namespace synshard::testing
