#include "synshard/util/text_lines.hpp"

#include <algorithm>
#include <utility>

namespace synshard {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

bool is_separator(char c) {
    return is_blank(c) || c == ',';
}

bool has_digit(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

TextLines::TextLines(std::string_view text) : text_(text) {
    if (text_.starts_with(kUtf8Bom)) position_ = kUtf8Bom.size();
}

std::optional<TextLine> TextLines::next() {
    if (position_ >= text_.size()) return std::nullopt;
    const std::size_t end = std::min(text_.find('\n', position_), text_.size());
    std::string_view line = text_.substr(position_, end - position_);
    if (line.ends_with('\r')) line.remove_suffix(1);
    position_ = end + 1;
    return TextLine{++number_, line};
}

std::optional<TextLine> TextRows::next() {
    while (auto line = lines_.next()) {
        std::string_view row = trim_blanks(line->text);
        if (row.ends_with(',')) row = trim_blanks(row.substr(0, row.size() - 1));
        if (row.empty()) continue;
        if (std::exchange(header_possible_, false) && !has_digit(row)) continue;
        return TextLine{line->number, row};
    }
    return std::nullopt;
}

std::size_t TextFields::after_separator() const {
    std::size_t at = position_;
    if (!taken_) return at;
    while (at < row_.size() && is_blank(row_[at])) ++at;
    if (at < row_.size() && row_[at] == ',') ++at;
    while (at < row_.size() && is_blank(row_[at])) ++at;
    return at;
}

std::string_view TextFields::next() {
    const std::size_t start = after_separator();
    std::size_t end = start;
    while (end < row_.size() && !is_separator(row_[end])) ++end;
    position_ = end;
    taken_ = true;
    return row_.substr(start, end - start);
}

std::string_view TextFields::rest() const {
    return row_.substr(after_separator());
}

std::string_view as_text(std::span<const std::uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string_view trim_blanks(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

}  // namespace synshard
