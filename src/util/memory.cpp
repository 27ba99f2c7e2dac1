#include "synshard/util/memory.hpp"

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

}  // namespace synshard
