#pragma once

#include <cstdint>

namespace synshard {

// This process's peak resident set size so far in bytes (VmHWM of /proc/self/status):
// what the kernel saw resident at the worst moment, shared pages that were touched
// included. Throws Error when /proc/self/status cannot be read or has no VmHWM line.
std::uint64_t peak_rss_bytes();

}  // namespace synshard
