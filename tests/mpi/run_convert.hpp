#pragma once

#include <string>
#include <vector>

#include "synshard/cli/command.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/convert/converter.hpp"
#include "synshard/convert/options.hpp"
#include "synshard/mpi/comm.hpp"

namespace synshard::testing {

// `synshard convert ARGS` on every rank of `comm`, in this process: the options parsed as
// the command parses them, then the conversion.
inline ExitCode run_convert(const std::vector<std::string>& args, const mpi::Comm& comm) {
    const auto command = cli::convert_command();
    const auto values = cli::parse_command_line(command, args);
    return convert::convert(convert::convert_options_from(values), comm);
}

}  // namespace synshard::testing
