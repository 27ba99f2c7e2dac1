#include "synshard/util/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "synshard/util/error.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard {
namespace {

// A rate over less than this, or over fewer items, says more about start-up than speed.
constexpr double kRateMinSeconds = 2.0;
constexpr std::uint64_t kRateMinItems = 10;

ProgressMode& configured_mode() {
    static ProgressMode mode = ProgressMode::automatic;
    return mode;
}

// "6 s", "3 min", "2.5 h".
std::string duration_text(double seconds) {
    char text[32];
    if (seconds < 120) {
        std::snprintf(text, sizeof text, "%.0f s", seconds);
    } else if (seconds < 7200) {
        std::snprintf(text, sizeof text, "%.0f min", seconds / 60);
    } else {
        std::snprintf(text, sizeof text, "%.1f h", seconds / 3600);
    }
    return text;
}

std::string rate_text(double rate) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f img/s", rate);
    return text;
}

}  // namespace

std::string progress_text(const std::string& phase, const ProgressCounts& counts,
                          double elapsed_seconds, bool final) {
    const std::uint64_t reused = std::min(counts.reused, counts.done);
    const std::uint64_t done = counts.done - reused;
    const std::uint64_t total = counts.total - std::min(reused, counts.total);
    const bool rate_known = elapsed_seconds >= kRateMinSeconds && done >= kRateMinItems;
    const double rate = rate_known ? static_cast<double>(done) / elapsed_seconds : 0.0;
    std::string text = phase + " " + std::to_string(done);
    if (counts.total == 0) {
        text += " done";
        if (rate_known) text += ", " + rate_text(rate);
    } else {
        text += "/" + std::to_string(total) + " (" +
                (total == 0 ? std::string("100%") : percent_of(done, total)) + ")";
        if (final) {
            char seconds[32];
            std::snprintf(seconds, sizeof seconds, "%.1f s", elapsed_seconds);
            text += std::string(" in ") + seconds;
            if (rate_known) text += ", " + rate_text(rate);
        } else if (rate_known) {
            text += " " + rate_text(rate) + " ETA " +
                    duration_text(static_cast<double>(total - std::min(done, total)) / rate);
        }
    }
    if (reused != 0) text += ", " + std::to_string(reused) + " reused from an earlier run";
    return text;
}

ProgressMode parse_progress_mode(std::string_view text) {
    if (text == "bar") return ProgressMode::bar;
    if (text == "lines") return ProgressMode::lines;
    if (text == "none") return ProgressMode::none;
    throw UsageError("--progress must be bar, lines or none, not '" + std::string(text) + "'");
}

void configure_progress(ProgressMode mode) {
    configured_mode() = mode;
}

Ancestor ancestor_kind(std::string_view command_name) {
    static constexpr std::array<std::string_view, 4> kLaunchers = {"mpirun", "mpiexec", "orterun",
                                                                   "prterun"};
    static constexpr std::array<std::string_view, 2> kDaemons = {"orted", "prted"};
    if (std::find(kLaunchers.begin(), kLaunchers.end(), command_name) != kLaunchers.end())
        return Ancestor::launcher;
    if (std::find(kDaemons.begin(), kDaemons.end(), command_name) != kDaemons.end())
        return Ancestor::daemon;
    return Ancestor::other;
}

bool is_terminal_device(std::string_view link) {
    if (link.starts_with("/dev/pts/")) return link.size() > 9;
    return link.starts_with("/dev/tty") || link == "/dev/console";
}

namespace {

// A process's name and parent from /proc/PID/stat ("PID (NAME) STATE PPID ..."; the name
// may hold spaces and parentheses, so it ends at the last ')'). Nullopt when gone.
struct ProcessEntry {
    std::string name;
    pid_t parent = 0;
};

std::optional<ProcessEntry> process_entry(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return std::nullopt;
    const auto open = line.find('(');
    const auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open)
        return std::nullopt;
    ProcessEntry entry;
    entry.name = line.substr(open + 1, close - open - 1);
    char state = 0;
    long parent = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %ld", &state, &parent) != 2) return std::nullopt;
    entry.parent = static_cast<pid_t>(parent);
    return entry;
}

}  // namespace

bool user_sees_terminal(std::FILE* stream) {
    bool under_daemon = false;
    for (pid_t pid = ::getppid(); pid > 1;) {
        const auto entry = process_entry(pid);
        if (!entry) break;
        const Ancestor kind = ancestor_kind(entry->name);
        if (kind == Ancestor::launcher) {
            std::error_code error;
            const auto output =
                std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/fd/1", error);
            return !error && is_terminal_device(output.string());
        }
        under_daemon = under_daemon || kind == Ancestor::daemon;
        pid = entry->parent;
    }
    // A daemon with no launcher above it was started from another node.
    return !under_daemon && ::isatty(::fileno(stream)) != 0;
}

namespace {

nlohmann::ordered_json counters_json(const ProgressCounts& counts, double elapsed_seconds) {
    return {{"done", counts.done},
            {"total", counts.total},
            {"reused", counts.reused},
            {"elapsed_seconds", std::round(elapsed_seconds * 1000) / 1000}};
}

class QuietDisplay final : public ProgressDisplay {
  public:
    void show(const std::string&, const ProgressCounts&, double) override {}
    void finish(const std::string&, const ProgressCounts&, double) override {}
};

class TerminalDisplay final : public ProgressDisplay {
  public:
    explicit TerminalDisplay(std::FILE* stream) : stream_(stream) {}

    void show(const std::string& phase, const ProgressCounts& counts,
              double elapsed_seconds) override {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        std::fprintf(stream_, "\r\033[K%s", progress_text(phase, counts, elapsed_seconds).c_str());
        std::fflush(stream_);
    }

    void finish(const std::string& phase, const ProgressCounts& counts,
                double elapsed_seconds) override {
        std::fprintf(stream_, "\r\033[K%s\n",
                     progress_text(phase, counts, elapsed_seconds, true).c_str());
        std::fflush(stream_);
    }

  private:
    std::FILE* stream_;
    std::chrono::steady_clock::time_point last_{};
};

class LogDisplay final : public ProgressDisplay {
  public:
    LogDisplay(std::FILE* stream, std::chrono::steady_clock::duration interval)
        : stream_(stream), interval_(interval), last_(std::chrono::steady_clock::now()) {}

    void show(const std::string& phase, const ProgressCounts& counts,
              double elapsed_seconds) override {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ < interval_) return;
        last_ = now;
        print(progress_text(phase, counts, elapsed_seconds), counts, elapsed_seconds);
    }

    void finish(const std::string& phase, const ProgressCounts& counts,
                double elapsed_seconds) override {
        print(progress_text(phase, counts, elapsed_seconds, true), counts, elapsed_seconds);
    }

  private:
    void print(const std::string& text, const ProgressCounts& counts, double elapsed_seconds) {
        const std::string line =
            log::format() == log::Format::json
                ? log::json_line("info", text, counters_json(counts, elapsed_seconds))
                : "synshard: " + text;
        std::fprintf(stream_, "%s\n", line.c_str());
        std::fflush(stream_);
    }

    std::FILE* stream_;
    std::chrono::steady_clock::duration interval_;
    std::chrono::steady_clock::time_point last_;
};

bool bar_wanted(std::FILE* stream) {
    switch (configured_mode()) {
        case ProgressMode::bar:
            return true;
        case ProgressMode::lines:
        case ProgressMode::none:
            return false;
        case ProgressMode::automatic:
            break;
    }
    if (log::format() == log::Format::json) return false;
    const char* term = std::getenv("TERM");
    const bool batch_job =
        std::getenv("SLURM_JOB_ID") != nullptr || std::getenv("PBS_JOBID") != nullptr;
    const bool dumb = term == nullptr || std::string_view(term) == "dumb";
    return !batch_job && !dumb && user_sees_terminal(stream);
}

}  // namespace

std::unique_ptr<ProgressDisplay> make_progress_display(
    std::FILE* stream, bool quiet, std::chrono::steady_clock::duration log_interval) {
    if (quiet || configured_mode() == ProgressMode::none) return std::make_unique<QuietDisplay>();
    if (bar_wanted(stream)) return std::make_unique<TerminalDisplay>(stream);
    return std::make_unique<LogDisplay>(stream, log_interval);
}

}  // namespace synshard
