#include "synshard/cli/command.hpp"

namespace synshard::cli {

const std::vector<Command>& commands() {
    static const std::vector<Command> all{plan_command(), hierarchy_command()};
    return all;
}

}  // namespace synshard::cli
