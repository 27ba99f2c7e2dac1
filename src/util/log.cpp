#include "synshard/util/log.hpp"

#include <cstdio>
#include <string>

namespace synshard::log {
namespace {

struct State {
    int rank = 0;
    int size = 1;
    Level threshold = Level::info;
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

void emit(std::FILE* stream, std::string_view severity, std::string_view message) {
    std::string line = prefix(severity);
    line.append(message);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stream);
    std::fflush(stream);
}

}  // namespace

void configure(int rank, int size, Level threshold) {
    state() = State{rank, size, threshold};
}

Level threshold() {
    return state().threshold;
}
int rank() {
    return state().rank;
}

void info(std::string_view message) {
    if (state().rank == 0 && state().threshold >= Level::info) emit(stdout, "", message);
}

void debug(std::string_view message) {
    if (state().rank == 0 && state().threshold >= Level::debug) emit(stdout, "debug", message);
}

void warn(std::string_view message) {
    if (state().threshold >= Level::warn) emit(stderr, "warning", message);
}

void error(std::string_view message) {
    emit(stderr, "error", message);
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
