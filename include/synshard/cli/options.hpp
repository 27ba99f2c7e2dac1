#pragma once

#include <boost/program_options.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "synshard/cli/command.hpp"

namespace synshard::cli {

// The required first operand `OUT` (option "output") of the commands that read a
// converted output: its directory, index.h5 or manifest.json.
void add_output_operand(po::options_description& options,
                        po::positional_options_description& positional);

// The options every command has: --help, --config, --log-level, --log-format, --progress.
po::options_description common_options();

// The command's own options followed by the common ones, as --help shows them.
po::options_description describe_command(const Command& command,
                                         po::positional_options_description& positional);

// Parses `synshard NAME ARGS...` (args excludes NAME). Values come from the command line
// first, then from the [NAME] section of --config FILE; defaults last. Throws
// UsageError naming the problem (unknown option, bad value, unknown key in the job
// file's section); required options are checked unless --help was given.
po::variables_map parse_command_line(const Command& command, const std::vector<std::string>& args);

// The parsed values of the included names as JSON (strings, numbers, booleans, lists),
// sorted by name: the effective options recorded in outputs.
nlohmann::ordered_json options_to_json(const po::variables_map& values,
                                       const std::vector<std::string>& included);

// "Usage: synshard NAME [options] OPERANDS" followed by the option table.
std::string command_help(const Command& command);

}  // namespace synshard::cli
