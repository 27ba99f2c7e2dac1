#include "synshard/cli/run.hpp"

#include <algorithm>
#include <iostream>
#include <optional>
#include <sstream>

#include "synshard/cli/command.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/mpi/environment.hpp"
#include "synshard/mpi/phase.hpp"
#include "synshard/util/interrupt.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/progress.hpp"
#include "synshard/util/versions.hpp"

namespace synshard::cli {
namespace {

std::string general_help() {
    std::ostringstream text;
    text << "Usage: synshard COMMAND [options]\n"
            "       synshard --version | --help\n\n"
            "Turns ImageNet-style image corpora into deterministic, balanced HDF5 shards,\n"
            "in parallel with MPI (run under mpirun/srun for more ranks).\n\nCommands:\n";
    std::size_t width = 0;
    for (const auto& command : commands()) width = std::max(width, command.name.size());
    for (const auto& command : commands()) {
        text << "  " << command.name << std::string(width - command.name.size() + 2, ' ')
             << command.summary << "\n";
    }
    text << "\n'synshard COMMAND --help' lists a command's options and their defaults.\n"
            "Exit codes: 0 success, 1 failure, 2 usage error, 3 completed with rejected\n"
            "inputs, 4 interrupted (rerun to resume).\n";
    return text.str();
}

std::string version_text() {
    std::ostringstream text;
    for (const auto& [name, version] : library_versions()) {
        text << name << " " << version << "\n";
    }
    return text.str();
}

log::Level parse_level(const std::string& text) {
    if (text == "error") return log::Level::error;
    if (text == "warn") return log::Level::warn;
    if (text == "info") return log::Level::info;
    if (text == "debug") return log::Level::debug;
    throw UsageError("--log-level must be error, warn, info or debug, not '" + text + "'");
}

void print_on_root(const mpi::Comm& comm, std::ostream& stream, const std::string& text) {
    if (comm.is_root()) stream << text << std::flush;
}

const Command* lookup_command(const std::string& name) {
    const auto& all = commands();
    const auto found = std::find_if(all.begin(), all.end(),
                                    [&](const Command& command) { return command.name == name; });
    return found == all.end() ? nullptr : &*found;
}

const Command& find_command(const std::string& name) {
    const Command* command = lookup_command(name);
    if (command == nullptr)
        throw UsageError("unknown command '" + name + "' (see 'synshard --help')");
    return *command;
}

ExitCode dispatch(const std::vector<std::string>& args, const mpi::Comm& comm) {
    if (args.empty()) {
        print_on_root(comm, std::cerr, general_help());
        return ExitCode::usage;
    }
    const std::string& first = args.front();
    if (first == "--help" || first == "-h" || first == "help") {
        print_on_root(comm, std::cout, general_help());
        return ExitCode::success;
    }
    if (first == "--version") {
        print_on_root(comm, std::cout, version_text());
        return ExitCode::success;
    }
    if (first.starts_with("-")) throw UsageError("expected a command before '" + first + "'");

    const Command& command = find_command(first);
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    po::variables_map options;
    try {
        options = parse_command_line(command, rest);
    } catch (const UsageError& error) {
        throw UsageError(std::string(error.what()) + " (see 'synshard " + command.name +
                         " --help')");
    }
    if (options.count("help") != 0) {
        print_on_root(comm, std::cout, command_help(command));
        return ExitCode::success;
    }
    log::configure(comm.rank(), comm.size(), parse_level(options["log-level"].as<std::string>()),
                   log::parse_format(options["log-format"].as<std::string>()));
    if (options.count("progress") != 0)
        configure_progress(parse_progress_mode(options["progress"].as<std::string>()));
    const log::PhaseScope phase(command.name);
    return command.execute(options, comm);
}

}  // namespace

int run(const std::vector<std::string>& args) {
    std::optional<InterruptGuard> interrupts;
    try {
        const Command* command = args.empty() ? nullptr : lookup_command(args.front());
        if (command != nullptr && command->interruptible) interrupts.emplace();
        mpi::Environment environment;
        mpi::Comm comm;
        log::configure(comm.rank(), comm.size(), log::Level::info);
        try {
            return to_int(dispatch(args, comm));
        } catch (const mpi::PhaseFailure& failure) {
            // Every rank holds the same failure; the root reports it once.
            if (comm.is_root()) {
                std::string where = failure.phase();
                if (comm.size() > 1)
                    where += " (rank " + std::to_string(failure.origin_rank()) + ")";
                log::error(where + ": " + failure.what());
            }
            return to_int(failure.usage() ? ExitCode::usage : ExitCode::failure);
        } catch (const UsageError& error) {
            // Option parsing and validation run identically on every rank.
            if (comm.is_root()) log::error(error.what());
            return to_int(ExitCode::usage);
        } catch (const std::exception& error) {
            // Not agreed on by the other ranks: they may be waiting in a collective.
            log::error(error.what());
            if (comm.size() > 1) MPI_Abort(comm.get(), to_int(ExitCode::failure));
            return to_int(ExitCode::failure);
        }
    } catch (const std::exception& error) {
        log::error(error.what());
        return to_int(ExitCode::failure);
    }
}

}  // namespace synshard::cli
