#include "synshard/cli/options.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "synshard/util/error.hpp"

namespace synshard::cli {

void add_output_operand(po::options_description& options,
                        po::positional_options_description& positional) {
    options.add_options()("output", po::value<std::string>()->required()->value_name("OUT"),
                          "the converted output: its directory, index.h5 or manifest.json");
    positional.add("output", 1);
}

po::options_description common_options() {
    po::options_description options("Common options");
    options.add_options()                                   //
        ("help,h", "show this command's options and exit")  //
        ("config", po::value<std::string>()->value_name("FILE"),
         "INI job file; its [command] section sets options (the command line wins)")  //
        ("log-level", po::value<std::string>()->default_value("info")->value_name("LEVEL"),
         "error, warn, info or debug");
    return options;
}

po::options_description describe_command(const Command& command,
                                         po::positional_options_description& positional) {
    po::options_description own(command.name + " options");
    command.describe(own, positional);
    po::options_description all;
    all.add(own).add(common_options());
    return all;
}

namespace {

// Turns the [section] of an INI job file into "--key=value" tokens, so that the file is
// parsed by the same option table and rules as the command line.
std::vector<std::string> job_file_tokens(const std::filesystem::path& file,
                                         const std::string& section) {
    std::ifstream stream(file);
    if (!stream) throw UsageError("cannot read job file " + file.string());
    po::options_description none;
    const auto parsed = po::parse_config_file(stream, none, /*allow_unregistered=*/true);
    std::vector<std::string> tokens;
    const std::string prefix = section + ".";
    for (const auto& option : parsed.options) {
        const auto dot = option.string_key.find('.');
        if (dot == std::string::npos) {
            throw UsageError("job file " + file.string() + ": '" + option.string_key +
                             "' stands outside any [command] section");
        }
        if (option.string_key.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string name = option.string_key.substr(prefix.size());
        for (const auto& value : option.value) {
            std::string token = "--";
            token.append(name).append("=").append(value);
            tokens.push_back(std::move(token));
        }
        if (option.value.empty()) tokens.push_back("--" + name);
    }
    return tokens;
}

po::parsed_options parse_tokens(const std::vector<std::string>& tokens,
                                const po::options_description& options,
                                const po::positional_options_description& positional) {
    return po::command_line_parser(tokens)
        .options(options)
        .positional(positional)
        .style(po::command_line_style::unix_style ^ po::command_line_style::allow_guessing)
        .run();
}

}  // namespace

po::variables_map parse_command_line(const Command& command, const std::vector<std::string>& args) {
    po::positional_options_description positional;
    const po::options_description options = describe_command(command, positional);
    po::variables_map values;
    try {
        po::store(parse_tokens(args, options, positional), values);
        if (values.count("help") != 0) return values;
        if (values.count("config") != 0) {
            const std::filesystem::path file = values["config"].as<std::string>();
            const auto tokens = job_file_tokens(file, command.name);
            try {
                po::store(parse_tokens(tokens, options, po::positional_options_description{}),
                          values);
            } catch (const po::error& error) {
                throw UsageError("job file " + file.string() + " [" + command.name +
                                 "]: " + error.what());
            }
        }
        po::notify(values);
    } catch (const po::error& error) {
        throw UsageError(error.what());
    }
    return values;
}

nlohmann::ordered_json options_to_json(const po::variables_map& values,
                                       const std::vector<std::string>& included) {
    nlohmann::ordered_json json = nlohmann::ordered_json::object();
    for (const auto& [name, value] : values) {
        if (std::find(included.begin(), included.end(), name) == included.end()) continue;
        const boost::any& any = value.value();
        if (const auto* text = boost::any_cast<std::string>(&any)) {
            json[name] = *text;
        } else if (const auto* list = boost::any_cast<std::vector<std::string>>(&any)) {
            json[name] = *list;
        } else if (const auto* flag = boost::any_cast<bool>(&any)) {
            json[name] = *flag;
        } else if (const auto* integer = boost::any_cast<int>(&any)) {
            json[name] = *integer;
        } else if (const auto* u32 = boost::any_cast<std::uint32_t>(&any)) {
            json[name] = *u32;
        } else if (const auto* u64 = boost::any_cast<std::uint64_t>(&any)) {
            json[name] = *u64;
        } else if (const auto* i64 = boost::any_cast<std::int64_t>(&any)) {
            json[name] = *i64;
        } else if (const auto* real = boost::any_cast<double>(&any)) {
            json[name] = *real;
        } else {
            throw Error("option --" + name + " has a type options_to_json does not know");
        }
    }
    return json;
}

std::string command_help(const Command& command) {
    po::positional_options_description positional;
    std::ostringstream text;
    text << "Usage: synshard " << command.name << " [options]";
    if (!command.operands.empty()) text << " " << command.operands;
    text << "\n\n" << command.summary << "\n\n" << describe_command(command, positional);
    return text.str();
}

}  // namespace synshard::cli
