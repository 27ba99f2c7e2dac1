#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace synshard::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

// text: "synshard: message" lines for people; json: one JSON object per line, {"time",
// "rank", "level", "phase", "message", "counters"}, for batch systems that parse logs.
enum class Format { text, json };

// Sets who this process is and how much it says. Until called, the process behaves as
// rank 0 of 1 at level info, writing text.
void configure(int rank, int size, Level threshold, Format format = Format::text);

Level threshold();
Format format();
int rank();

// "text" or "json"; throws UsageError naming the valid ones.
Format parse_format(std::string_view text);

// The phase JSON lines name while the scope lives ("process", "write"); outside any, the
// command ("convert").
class PhaseScope {
  public:
    explicit PhaseScope(std::string phase);
    ~PhaseScope();
    PhaseScope(const PhaseScope&) = delete;
    PhaseScope& operator=(const PhaseScope&) = delete;

  private:
    std::string outer_;
};

// Only rank 0 talks to the user: info and debug lines from other ranks are dropped.
void info(std::string_view message);
void debug(std::string_view message);
// Warnings and errors are printed by whichever rank has them, tagged with the rank when
// the job has more than one, so a failure on rank 7 is visible in the batch log.
void warn(std::string_view message);
void error(std::string_view message);
// The JSON line (without its newline) that --log-format json writes for `message`, in
// the current phase; `counters` (an object: done, total, ...) are its "counters".
std::string json_line(std::string_view level, std::string_view message,
                      const nlohmann::ordered_json& counters = nlohmann::ordered_json::object());

// A size for a message: "512 B", "3.4 KiB", "1.2 GiB".
std::string format_bytes(std::uint64_t bytes);

}  // namespace synshard::log
