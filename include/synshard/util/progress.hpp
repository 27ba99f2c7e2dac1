#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace synshard {

// Where progress goes. Two faces (after ninja): a terminal gets one line redrawn in
// place; a batch log gets a plain line every few seconds.
class ProgressDisplay {
  public:
    virtual ~ProgressDisplay() = default;
    // done out of total (total 0 = unknown) items of `phase`, seconds since it began.
    virtual void show(const std::string& phase, std::uint64_t done, std::uint64_t total,
                      double elapsed_seconds) = 0;
    // The phase is over: a terminal line is ended, a log gets its final line.
    virtual void finish(const std::string& phase, std::uint64_t done, std::uint64_t total,
                        double elapsed_seconds) = 0;
};

// A redrawn bar when stream is a terminal outside a batch job, otherwise a line every
// log_interval. Under mpirun a rank's stdout is a pseudo-terminal even when the job's
// log is a file, so a batch scheduler's job (SLURM_JOB_ID, PBS_JOBID) or TERM=dumb
// always gets log lines. quiet gives a display that shows nothing.
std::unique_ptr<ProgressDisplay> make_progress_display(
    std::FILE* stream, bool quiet,
    std::chrono::steady_clock::duration log_interval = std::chrono::seconds(5));

// "phase 1234/5000 (24.7%) 812.3 img/s ETA 4.6 s": the text both faces print.
std::string progress_text(const std::string& phase, std::uint64_t done, std::uint64_t total,
                          double elapsed_seconds);

}  // namespace synshard
