#include "synshard/util/error.hpp"

#include <cstring>

namespace synshard {

void throw_system_error(const std::string& what, int errno_value) {
    throw Error(what + ": " + std::strerror(errno_value));
}

}  // namespace synshard
