#pragma once

// The forms of a clean text input (--val-labels, --classes, a --boxes CSV, words.txt,
// gloss.txt, wordnet.is_a.txt) that every reader must take as the clean file, and no
// others (util/text_lines.hpp).

#include <string>
#include <string_view>
#include <vector>

namespace synshard::testing {

inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Every occurrence of `from` replaced by `to`.
inline std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

// The rows of `text` (LF line ends) each followed by `end` before its line end.
inline std::string with_row_ends(const std::string& text, std::string_view end) {
    return replace_all(text, "\n", std::string(end) + "\n");
}

struct TextVariant {
    std::string name;
    std::string text;
};

// The accepted forms of `clean` (LF line ends, fields as the format writes them): with a
// UTF-8 byte-order mark; with CRLF line ends; as `spread` (the same rows written with a
// tab or several spaces between fields, by the caller, who knows which separators are
// fields'); with a comma, or whitespace, at the end of every row; below `header` (a
// header row without its line end); and all of these at once.
inline std::vector<TextVariant> text_variants(const std::string& clean, const std::string& spread,
                                              const std::string& header) {
    return {
        {"byte-order mark", std::string(kUtf8Bom) + clean},
        {"CRLF", replace_all(clean, "\n", "\r\n")},
        {"tabs and spaces between fields", spread},
        {"trailing comma", with_row_ends(clean, ",")},
        {"trailing whitespace", with_row_ends(clean, " \t ")},
        {"header row", header + "\n" + clean},
        {"all at once", std::string(kUtf8Bom) +
                            replace_all(with_row_ends(header + "\n" + spread, ", "), "\n", "\r\n")},
    };
}

}  // namespace synshard::testing
