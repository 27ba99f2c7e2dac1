#include "synshard/cli/command.hpp"

namespace synshard::cli {

const std::vector<Command>& commands() {
    static const std::vector<Command> all{};
    return all;
}

}  // namespace synshard::cli
