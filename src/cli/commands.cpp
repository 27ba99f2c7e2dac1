#include "synshard/cli/command.hpp"

namespace synshard::cli {

const std::vector<Command>& commands() {
    static const std::vector<Command> all{synth_command(),  plan_command(),      convert_command(),
                                          verify_command(), inspect_command(),   show_command(),
                                          locate_command(), hierarchy_command(), bench_command()};
    return all;
}

}  // namespace synshard::cli
