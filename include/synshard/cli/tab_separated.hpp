#pragma once

#include <string>
#include <string_view>

namespace synshard::cli {

// A field of a tab-separated line: backslash, tab, newline and carriage return become
// \\, \t, \n and \r, so that a key holding them (a tar member may) stays one field of
// one line. Every other byte is kept.
std::string tab_field(std::string_view text);

}  // namespace synshard::cli
