#pragma once

namespace synshard {

// The process exit codes, fixed for scripts and schedulers.
enum class ExitCode : int {
    success = 0,
    failure = 1,
    usage = 2,
    // Completed, but some inputs were rejected (the manifest lists which and why).
    completed_with_rejections = 3,
    // Interrupted (signal); rerunning the same command resumes.
    interrupted = 4,
};

constexpr int to_int(ExitCode code) {
    return static_cast<int>(code);
}

}  // namespace synshard
