// Private to corpus/: how listing and archive reading turn a stat into the modification
// time the resume fingerprint records.
#pragma once

#include <sys/stat.h>

#include <cstdint>

namespace synshard::corpus {

// st_mtim in nanoseconds since the epoch.
inline std::int64_t mtime_ns(const struct stat& status) {
    return std::int64_t{status.st_mtim.tv_sec} * 1'000'000'000 + status.st_mtim.tv_nsec;
}

}  // namespace synshard::corpus
