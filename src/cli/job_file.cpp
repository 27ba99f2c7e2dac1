#include "synshard/cli/job_file.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "synshard/util/error.hpp"
#include "synshard/util/text_lines.hpp"

namespace synshard::cli {
namespace {

std::string lowercase(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower;
}

// A section written with other capitals or two letters swapped names the one meant.
std::string suggestion(const std::string& name, const std::vector<std::string>& sections) {
    for (const auto& section : sections) {
        std::string a = lowercase(name);
        std::string b = section;
        if (a == b) return "; did you mean [" + section + "]?";
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        if (a == b) return "; did you mean [" + section + "]?";
    }
    std::string list;
    for (const auto& section : sections) list += (list.empty() ? "" : ", ") + section;
    return " (the sections are the commands: " + list + ")";
}

class LineError {
  public:
    LineError(const std::string& where, int line)
        : prefix_(where + ":" + std::to_string(line) + ": ") {}
    [[noreturn]] void operator()(const std::string& message) const {
        throw UsageError(prefix_ + message);
    }

  private:
    std::string prefix_;
};

// The value after '=': unquoted, without a trailing ` # comment`.
std::string parse_value(std::string_view text, const LineError& fail) {
    text = trim_blanks(text);
    if (!text.empty() && (text.front() == '"' || text.front() == '\'')) {
        const char quote = text.front();
        const auto close = text.find(quote, 1);
        if (close == std::string_view::npos)
            fail(std::string("the value's opening ") + quote + " has no closing quote");
        const std::string_view rest = trim_blanks(text.substr(close + 1));
        if (!rest.empty() && rest.front() != '#')
            fail("'" + std::string(rest) + "' follows the quoted value");
        return std::string(text.substr(1, close - 1));
    }
    for (std::size_t i = 1; i < text.size(); ++i) {
        if (text[i] == '#' && (text[i - 1] == ' ' || text[i - 1] == '\t'))
            return std::string(trim_blanks(text.substr(0, i)));
    }
    return std::string(text);
}

}  // namespace

std::vector<JobSetting> parse_job_file(std::string_view text, const std::string& where,
                                       const std::vector<std::string>& sections) {
    std::vector<JobSetting> settings;
    std::string section;
    std::istringstream lines{std::string(text)};
    int number = 0;
    for (std::string raw; std::getline(lines, raw);) {
        const LineError fail(where, ++number);
        const std::string_view line = trim_blanks(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        if (line.front() == '[') {
            if (line.back() != ']')
                fail("'" + std::string(line) + "' is no section header: expected [command]");
            section = std::string(trim_blanks(line.substr(1, line.size() - 2)));
            if (std::find(sections.begin(), sections.end(), section) == sections.end())
                fail("unknown section [" + section + "]" + suggestion(section, sections));
            continue;
        }
        const auto equals = line.find('=');
        const std::string name(trim_blanks(line.substr(0, std::min(equals, line.size()))));
        if (equals == std::string_view::npos || name.empty() ||
            name.find_first_of(" \t") != std::string::npos) {
            fail("expected 'name = value', [command] or a # comment, not '" + std::string(line) +
                 "'");
        }
        if (section.empty()) fail("'" + name + "' stands outside any [command] section");
        if (name == "config")
            fail("a job file cannot name another one (config): give one --config FILE");
        settings.push_back({section, name, parse_value(line.substr(equals + 1), fail), number});
    }
    return settings;
}

std::vector<JobSetting> read_job_file(const std::filesystem::path& file,
                                      const std::vector<std::string>& sections) {
    std::error_code error;
    if (std::filesystem::is_directory(file, error))
        throw UsageError("--config " + file.string() + " is a folder, not a job file");
    std::ifstream stream(file);
    if (!stream) throw UsageError("cannot read job file " + file.string());
    std::ostringstream text;
    text << stream.rdbuf();
    return parse_job_file(text.str(), file.string(), sections);
}

}  // namespace synshard::cli
