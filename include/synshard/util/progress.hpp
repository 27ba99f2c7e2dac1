#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace synshard {

// How far a phase is.
struct ProgressCounts {
    std::uint64_t done = 0;    // items done, those taken from an earlier run included
    std::uint64_t total = 0;   // 0: unknown
    std::uint64_t reused = 0;  // of `done`, taken from an earlier run: no work of this one
};

// Where progress goes. Two faces (after ninja): a terminal gets one line redrawn in
// place; a batch log gets a plain line every few seconds.
class ProgressDisplay {
  public:
    virtual ~ProgressDisplay() = default;
    // `counts` of `phase`, seconds since it began.
    virtual void show(const std::string& phase, const ProgressCounts& counts,
                      double elapsed_seconds) = 0;
    // The phase is over: a terminal line is ended, a log gets its final line.
    virtual void finish(const std::string& phase, const ProgressCounts& counts,
                        double elapsed_seconds) = 0;
};

// --progress: automatic draws a bar only where the user will see one (see
// make_progress_display), the others force a face.
enum class ProgressMode { automatic, bar, lines, none };

// "bar", "lines" or "none" (automatic has no name: it is the absence of the option);
// throws UsageError naming the valid ones.
ProgressMode parse_progress_mode(std::string_view text);

// The mode every later make_progress_display follows (automatic until called).
void configure_progress(ProgressMode mode);

// quiet, or mode none: a display that shows nothing. Mode bar: a redrawn bar; lines, or
// --log-format json: a line every log_interval. Automatic: a bar when the user's
// terminal shows stream (user_sees_terminal) outside a batch job (SLURM_JOB_ID,
// PBS_JOBID) and TERM is set and not dumb, otherwise lines.
std::unique_ptr<ProgressDisplay> make_progress_display(
    std::FILE* stream, bool quiet,
    std::chrono::steady_clock::duration log_interval = std::chrono::seconds(5));

// Whether what this process writes to `stream` reaches a terminal. Under mpirun every
// rank's standard output is a pseudo-terminal even when the job's output goes to a file,
// so under a launcher found among this process's ancestors (on this node) the answer is
// whether the launcher's own standard output is a terminal (Open MPI 5 starts the ranks
// from a daemon, prted, below the launcher); under a daemon with no launcher above it
// (started from another node) it is no.
bool user_sees_terminal(std::FILE* stream);

// What a process found among the ancestors is, by its name (/proc/PID/comm).
enum class Ancestor { other, launcher, daemon };
Ancestor ancestor_kind(std::string_view command_name);

// Whether a file descriptor's link (/proc/PID/fd/1) names a terminal: /dev/pts/N,
// /dev/ttyN, /dev/console.
bool is_terminal_device(std::string_view link);

// What both faces print: "process 250/1000 (25.0%) 125.0 img/s ETA 6 s". Counts exclude
// the reused items, named at the end ("..., 300 reused from an earlier run"). No rate or
// ETA before a few seconds and items have passed (a first tick's rate means nothing);
// `final` gives the phase's time and average rate instead of an ETA.
std::string progress_text(const std::string& phase, const ProgressCounts& counts,
                          double elapsed_seconds, bool final = false);

}  // namespace synshard
