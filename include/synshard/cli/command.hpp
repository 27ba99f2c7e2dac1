#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <string>
#include <vector>

#include "synshard/mpi/comm.hpp"
#include "synshard/util/exit_code.hpp"

namespace synshard::cli {

namespace po = boost::program_options;

// A command line that --help (and the man page) ends with, and what it does.
struct Example {
    std::string command_line;
    std::string meaning;
};

// One subcommand of `synshard`. Options are declared once and are then settable on the
// command line and in the job file's [name] section alike.
struct Command {
    std::string name;
    std::string summary;
    // Shown after "synshard NAME [options]" in the usage line, e.g. "OUT".
    std::string operands;
    std::function<void(po::options_description&, po::positional_options_description&)> describe;
    // Runs on every rank. Validate option values before writing anything: a UsageError
    // thrown then means exit code 2.
    std::function<ExitCode(const po::variables_map&, const mpi::Comm&)> execute;
    // The command stops gracefully on SIGUSR1/SIGTERM/SIGINT (exit code 4): the signals
    // are caught from the start of the process, before MPI is initialised.
    bool interruptible = false;
    // Another command's job file section read after the command's own, for the options
    // they share (plan takes convert's corpus and shard options from [convert]).
    std::string shared_section;
    // What --help ends with (set by commands()).
    std::vector<Example> examples;
};

// The commands (each defined in src/cli/<name>_command.cpp).
Command synth_command();
Command plan_command();
Command convert_command();
Command hierarchy_command();
Command verify_command();
Command inspect_command();
Command show_command();
Command locate_command();
Command bench_command();

// What plan prints of the corpus and shard options in values: the plan, the shard counts
// convert would use (or its usage error), the partition; convert --dry-run prints it too.
ExitCode print_plan(const po::variables_map& values, const mpi::Comm& comm);

// Every command, in the order --help lists them, with its examples.
const std::vector<Command>& commands();

}  // namespace synshard::cli
