#pragma once

#include <cstddef>
#include <cstdint>

namespace synshard {

// This process's peak resident set size so far in bytes (VmHWM of /proc/self/status):
// what the kernel saw resident at the worst moment, shared pages that were touched
// included. Throws Error when /proc/self/status cannot be read or has no VmHWM line.
std::uint64_t peak_rss_bytes();

// Lets the allocator keep blocks up to `bytes` in its heap and reuse them after free,
// instead of mapping each large block afresh and unmapping it when freed (glibc maps
// blocks over 32 MiB on every allocation). For a process that allocates buffers of about
// the same large size over and over (the converter's shard rounds), this saves touching
// new pages each time: page faults, which cost most under a hypervisor. Memory once used
// then stays with the process until it exits. Process-wide; call it before the work.
void reuse_large_allocations(std::size_t bytes);

}  // namespace synshard
