#include "synshard/util/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace synshard {

std::string progress_text(const std::string& phase, std::uint64_t done, std::uint64_t total,
                          double elapsed_seconds) {
    const double rate = elapsed_seconds > 0 ? static_cast<double>(done) / elapsed_seconds : 0.0;
    char text[256];
    if (total == 0) {
        std::snprintf(text, sizeof text, "%s %llu done, %.1f img/s", phase.c_str(),
                      static_cast<unsigned long long>(done), rate);
        return text;
    }
    const double percent = 100.0 * static_cast<double>(done) / static_cast<double>(total);
    const double remaining =
        rate > 0 ? static_cast<double>(total - std::min(done, total)) / rate : NAN;
    std::snprintf(
        text, sizeof text, "%s %llu/%llu (%.1f%%) %.1f img/s ETA %s", phase.c_str(),
        static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), percent,
        rate,
        std::isnan(remaining) ? "?" : (std::to_string(std::lround(remaining)) + " s").c_str());
    return text;
}

namespace {

class QuietDisplay final : public ProgressDisplay {
  public:
    void show(const std::string&, std::uint64_t, std::uint64_t, double) override {}
    void finish(const std::string&, std::uint64_t, std::uint64_t, double) override {}
};

class TerminalDisplay final : public ProgressDisplay {
  public:
    explicit TerminalDisplay(std::FILE* stream) : stream_(stream) {}

    void show(const std::string& phase, std::uint64_t done, std::uint64_t total,
              double elapsed_seconds) override {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        std::fprintf(stream_, "\r\033[K%s",
                     progress_text(phase, done, total, elapsed_seconds).c_str());
        std::fflush(stream_);
    }

    void finish(const std::string& phase, std::uint64_t done, std::uint64_t total,
                double elapsed_seconds) override {
        std::fprintf(stream_, "\r\033[K%s\n",
                     progress_text(phase, done, total, elapsed_seconds).c_str());
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

    void show(const std::string& phase, std::uint64_t done, std::uint64_t total,
              double elapsed_seconds) override {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ < interval_) return;
        last_ = now;
        print(phase, done, total, elapsed_seconds);
    }

    void finish(const std::string& phase, std::uint64_t done, std::uint64_t total,
                double elapsed_seconds) override {
        print(phase, done, total, elapsed_seconds);
    }

  private:
    void print(const std::string& phase, std::uint64_t done, std::uint64_t total, double elapsed) {
        std::fprintf(stream_, "synshard: %s\n", progress_text(phase, done, total, elapsed).c_str());
        std::fflush(stream_);
    }

    std::FILE* stream_;
    std::chrono::steady_clock::duration interval_;
    std::chrono::steady_clock::time_point last_;
};

}  // namespace

std::unique_ptr<ProgressDisplay> make_progress_display(
    std::FILE* stream, bool quiet, std::chrono::steady_clock::duration log_interval) {
    if (quiet) return std::make_unique<QuietDisplay>();
    const char* term = std::getenv("TERM");
    const bool batch_job =
        std::getenv("SLURM_JOB_ID") != nullptr || std::getenv("PBS_JOBID") != nullptr;
    const bool dumb = term == nullptr || std::string_view(term) == "dumb";
    if (::isatty(::fileno(stream)) != 0 && !batch_job && !dumb) {
        return std::make_unique<TerminalDisplay>(stream);
    }
    return std::make_unique<LogDisplay>(stream, log_interval);
}

}  // namespace synshard
