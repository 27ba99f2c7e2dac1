#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace synshard::cli {

// One `name = value` line of a job file.
struct JobSetting {
    std::string section;
    std::string name;
    std::string value;  // without its quotes
    int line = 0;
};

// Pure. The settings of an INI job file, in file order. A line is blank, a comment (first
// character '#' or ';'), `[section]` (one of `sections`, written exactly so) or
// `name = value`; a value may be quoted with '...' or "..." (taken literally inside), and
// ` # ...` after a value is a comment. Anything else is a UsageError "WHERE:LINE: ...",
// as are a setting before the first section and `config` (a job file names no other).
std::vector<JobSetting> parse_job_file(std::string_view text, const std::string& where,
                                       const std::vector<std::string>& sections);

// parse_job_file of FILE's contents; a folder or an unreadable file is a UsageError.
std::vector<JobSetting> read_job_file(const std::filesystem::path& file,
                                      const std::vector<std::string>& sections);

}  // namespace synshard::cli
