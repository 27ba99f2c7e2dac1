#include "synshard/util/memory.hpp"

#include <malloc.h>

#include <algorithm>
#include <climits>
#include <fstream>
#include <sstream>
#include <string>

#include "synshard/util/error.hpp"

namespace synshard {

std::uint64_t peak_rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (!line.starts_with("VmHWM:")) continue;
        std::istringstream fields(line.substr(6));
        std::uint64_t kibibytes = 0;
        if (fields >> kibibytes) return kibibytes * 1024;
        break;
    }
    throw Error("/proc/self/status: no readable VmHWM line");
}

void reuse_large_allocations(std::size_t bytes) {
    const int limit = static_cast<int>(std::min<std::size_t>(bytes, INT_MAX));
    if (mallopt(M_MMAP_THRESHOLD, limit) != 1 || mallopt(M_TRIM_THRESHOLD, limit) != 1) {
        throw Error("mallopt refused a threshold of " + std::to_string(limit) + " bytes");
    }
}

}  // namespace synshard
