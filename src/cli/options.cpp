#include "synshard/cli/options.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "synshard/cli/job_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/option_values.hpp"

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
         "error, warn, info or debug")  //
        ("log-format", po::value<std::string>()->default_value("text")->value_name("FORMAT"),
         "text, or json: one JSON object per line (time, rank, level, phase, message, "
         "counters)")  //
        ("progress", po::value<std::string>()->value_name("MODE"),
         "bar, lines or none (default: a bar when the terminal of the user who started the "
         "job shows it, else a line every 5 s)");
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

// A switch (no value on the command line) that is on unless the user says --no-NAME.
bool is_on_by_default(const po::option_description& option) {
    if (option.semantic()->max_tokens() != 0) return false;
    boost::any value;
    return option.semantic()->apply_default(value) && boost::any_cast<bool>(&value) != nullptr &&
           boost::any_cast<bool>(value);
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

// Stores the settings of the command's section of a job file, then those of its shared
// section that it has options for and its own leaves out; the command line, stored
// before, wins. Errors name the file and line.
void store_job_file(const Command& command, const po::options_description& options,
                    const std::filesystem::path& file, po::variables_map& values) {
    std::vector<std::string> sections{command.name};
    for (const auto& each : commands()) {
        if (each.name != command.name) sections.push_back(each.name);
    }
    const std::vector<JobSetting> settings = read_job_file(file, sections);
    std::set<std::string> own;
    for (const std::string& section : {command.name, command.shared_section}) {
        std::map<std::string, int> first_line;
        for (const auto& setting : settings) {
            if (setting.section != section || section.empty()) continue;
            const std::string where = file.string() + ":" + std::to_string(setting.line) + ": ";
            const po::option_description* option = options.find_nothrow(setting.name, false);
            if (option == nullptr || setting.name == "help") {
                if (section != command.name) continue;  // an option of the other command only
                throw UsageError(where + "[" + section + "] has no option '" + setting.name + "'");
            }
            if (section == command.name)
                own.insert(setting.name);
            else if (own.count(setting.name) != 0)
                continue;
            if (!option->semantic()->is_composing()) {
                const auto [first, added] = first_line.emplace(setting.name, setting.line);
                if (!added) {
                    throw UsageError(where + "'" + setting.name + "' is set twice in [" + section +
                                     "] (first on line " + std::to_string(first->second) + ")");
                }
            }
            po::parsed_options parsed(&options, po::command_line_style::allow_long);
            parsed.options.emplace_back(setting.name, std::vector<std::string>{setting.value});
            try {
                po::store(parsed, values);
            } catch (const po::error& error) {
                throw UsageError(where + error.what());
            }
        }
    }
}

}  // namespace

po::variables_map parse_command_line(const Command& command, const std::vector<std::string>& args) {
    po::positional_options_description positional;
    const po::options_description described = describe_command(command, positional);
    // --no-NAME of each switch on by default, parsed as its own switch and then stored as
    // NAME = false, so that the command line still wins over the job file (which says
    // `NAME = false`).
    std::vector<std::string> negatable;
    po::options_description negations;
    for (const auto& option : described.options()) {
        if (!is_on_by_default(*option)) continue;
        negatable.push_back(option->long_name());
        negations.add_options()(("no-" + option->long_name()).c_str(), switch_value(), "");
    }
    po::options_description options;
    options.add(described).add(negations);
    po::variables_map values;
    try {
        po::store(parse_tokens(args, options, positional), values);
        if (values.count("help") != 0) return values;
        for (const auto& name : negatable) {
            if (!values["no-" + name].as<bool>()) continue;
            if (!values[name].defaulted())
                throw UsageError("--" + name + " and --no-" + name + " exclude each other");
            po::parsed_options negation(&options, po::command_line_style::allow_long);
            negation.options.emplace_back(name, std::vector<std::string>{"false"});
            po::store(negation, values);
        }
        if (values.count("config") != 0)
            store_job_file(command, described, values["config"].as<std::string>(), values);
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

namespace {

constexpr std::size_t kHelpWidth = 80;
constexpr std::size_t kDescriptionColumn = 36;

// `text` in lines of at most `width` characters, broken at spaces (a longer word stands
// alone on its line).
std::vector<std::string> wrapped(const std::string& text, std::size_t width) {
    std::vector<std::string> lines;
    std::istringstream words(text);
    std::string line;
    for (std::string word; words >> word;) {
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            lines.push_back(line);
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty()) lines.push_back(line);
    return lines;
}

// `left` (names and value) indented, `description` in its column beside it, or from the
// next line when `left` is too wide.
void write_entry(std::ostream& out, const std::string& left, const std::string& description) {
    std::string line = "  " + left;
    const auto parts = wrapped(description, kHelpWidth - kDescriptionColumn);
    if (line.size() + 2 > kDescriptionColumn || parts.empty()) {
        out << line << "\n";
        line.clear();
    }
    for (const auto& part : parts) {
        line.resize(kDescriptionColumn, ' ');
        out << line << part << "\n";
        line.clear();
    }
}

// Each option as "--name VALUE (=default) (required)" and its description; a switch that
// is on by default also as --no-NAME.
void write_options(std::ostream& out, const std::string& caption,
                   const po::options_description& options) {
    out << "\n" << caption << ":\n";
    for (const auto& option : options.options()) {
        std::string left = "--" + option->long_name();
        const std::string short_name =
            option->canonical_display_name(po::command_line_style::allow_dash_for_short);
        if (short_name.starts_with("-")) left = short_name + ", " + left;
        if (const std::string value = option->format_parameter(); !value.empty())
            left += " " + value;
        if (option->semantic()->is_required()) left += " (required)";
        if (is_on_by_default(*option)) {
            write_entry(out, left, option->description() + " (on by default)");
            write_entry(out, "--no-" + option->long_name(),
                        "turn --" + option->long_name() + " off");
        } else {
            write_entry(out, left, option->description());
        }
    }
}

}  // namespace

std::string command_help(const Command& command) {
    std::ostringstream text;
    text << "Usage: synshard " << command.name << " [options]";
    if (!command.operands.empty()) text << " " << command.operands;
    text << "\n\n";
    for (const auto& line : wrapped(command.summary, kHelpWidth)) text << line << "\n";
    po::options_description own;
    po::positional_options_description positional;
    command.describe(own, positional);
    write_options(text, command.name + " options", own);
    write_options(text, "Common options", common_options());
    if (!command.examples.empty()) text << "\nExamples:\n";
    for (const auto& example : command.examples) {
        text << "  " << example.command_line << "\n";
        for (const auto& line : wrapped(example.meaning, kHelpWidth - 6))
            text << "      " << line << "\n";
    }
    return text.str();
}

}  // namespace synshard::cli
