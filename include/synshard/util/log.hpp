#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace synshard::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

// Sets who this process is and how much it says. Until called, the process behaves as
// rank 0 of 1 at level info.
void configure(int rank, int size, Level threshold);

Level threshold();
int rank();

// Only rank 0 talks to the user: info and debug lines from other ranks are dropped.
void info(std::string_view message);
void debug(std::string_view message);
// Warnings and errors are printed by whichever rank has them, tagged with the rank when
// the job has more than one, so a failure on rank 7 is visible in the batch log.
void warn(std::string_view message);
void error(std::string_view message);

// A size for a message: "512 B", "3.4 KiB", "1.2 GiB".
std::string format_bytes(std::uint64_t bytes);

}  // namespace synshard::log
