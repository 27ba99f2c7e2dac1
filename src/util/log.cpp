#include "synshard/util/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "synshard/util/error.hpp"

namespace synshard::log {
namespace {

struct State {
    int rank = 0;
    int size = 1;
    Level threshold = Level::info;
    Format format = Format::text;
    std::string phase;
};

State& state() {
    static State current;
    return current;
}

std::string prefix(std::string_view severity) {
    std::string text = "synshard";
    // Only lines that any rank may print need to say which rank printed them.
    if (state().size > 1 && !severity.empty()) text += "[" + std::to_string(state().rank) + "]";
    text += ": ";
    if (!severity.empty()) {
        text += severity;
        text += ": ";
    }
    return text;
}

// UTC with milliseconds, "2026-12-06T03:14:15.926Z": sortable, and the same on every node.
std::string utc_now() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char text[40];
    const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + length, sizeof text - length, ".%03dZ", static_cast<int>(millis));
    return text;
}

void write_line(std::FILE* stream, std::string line) {
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stream);
    std::fflush(stream);
}

void emit(std::FILE* stream, std::string_view severity, std::string_view message,
          std::string_view level) {
    write_line(stream, state().format == Format::text ? prefix(severity).append(message)
                                                      : json_line(level, message));
}

}  // namespace

void configure(int rank, int size, Level threshold, Format format) {
    std::string phase = std::move(state().phase);
    state() = State{rank, size, threshold, format, std::move(phase)};
}

Level threshold() {
    return state().threshold;
}
Format format() {
    return state().format;
}
int rank() {
    return state().rank;
}

Format parse_format(std::string_view text) {
    if (text == "text") return Format::text;
    if (text == "json") return Format::json;
    throw UsageError("--log-format must be text or json, not '" + std::string(text) + "'");
}

PhaseScope::PhaseScope(std::string phase) : outer_(std::move(state().phase)) {
    state().phase = std::move(phase);
}

PhaseScope::~PhaseScope() {
    state().phase = std::move(outer_);
}

void info(std::string_view message) {
    if (state().rank == 0 && state().threshold >= Level::info) emit(stdout, "", message, "info");
}

void debug(std::string_view message) {
    if (state().rank == 0 && state().threshold >= Level::debug)
        emit(stdout, "debug", message, "debug");
}

void warn(std::string_view message) {
    if (state().threshold >= Level::warn) emit(stderr, "warning", message, "warn");
}

void error(std::string_view message) {
    emit(stderr, "error", message, "error");
}

std::string json_line(std::string_view level, std::string_view message,
                      const nlohmann::ordered_json& counters) {
    nlohmann::ordered_json line;
    line["time"] = utc_now();
    line["rank"] = state().rank;
    line["level"] = level;
    line["phase"] = state().phase;
    line["message"] = message;
    line["counters"] = counters;
    // Invalid UTF-8 (a key from a tar header) is replaced rather than losing the line.
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string format_bytes(std::uint64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " B";
    static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double size = static_cast<double>(bytes) / 1024.0;
    std::size_t unit = 0;
    while (size >= 1024.0 && unit + 1 < std::size(kUnits)) {
        size /= 1024.0;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.1f %s", size, kUnits[unit]);
    return text;
}

}  // namespace synshard::log
