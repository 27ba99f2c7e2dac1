#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace synshard {

// One line of a text file and its 1-based number.
struct TextLine {
    std::size_t number = 0;
    std::string_view text;
};

// The lines of a text, split at '\n', without the line end ('\n', and a '\r' before
// it); a UTF-8 byte-order mark at the start of the text is not part of line 1. A final
// line end starts no line. Allocates nothing: the lines point into the text, which must
// outlive them.
class TextLines {
  public:
    explicit TextLines(std::string_view text);
    // The next line, or nullopt after the last.
    std::optional<TextLine> next();

  private:
    std::string_view text_;
    std::size_t position_ = 0;
    std::size_t number_ = 0;
};

// The rows of a text input (--val-labels, --classes, a --boxes CSV, words.txt, gloss.txt,
// wordnet.is_a.txt), read alike for all of them so that each takes these forms, and no
// others, as the clean file:
// - a UTF-8 byte-order mark at the start; CRLF line ends;
// - blanks (spaces and tabs) around a row, and one comma at its end;
// - a header row: a first row holding no digit (`ImageId,PredictionString`, `wnid`),
//   which no data row of these files can be, as each holds a wnid or a number;
// - blank rows, which are skipped (their lines still count).
// Fields within a row are TextFields'.
class TextRows {
  public:
    explicit TextRows(std::string_view text) : lines_(text) {}
    // The next row that is neither blank nor the header, its text without the blanks
    // and comma around it, or nullopt after the last.
    std::optional<TextLine> next();

  private:
    TextLines lines_;
    bool header_possible_ = true;
};

// The fields of a row, one at a time, without allocating. Fields are separated by
// blanks, or by one comma with or without blanks around it: "a,b", "a, b", "a\tb" and
// "a   b" are all the fields a and b, while "a,,b" holds an empty field between them.
class TextFields {
  public:
    explicit TextFields(std::string_view row) : row_(row) {}
    // The next field: empty when it is, or after the last (see at_end()).
    std::string_view next();
    // Whether every field has been taken.
    bool at_end() const { return position_ == row_.size(); }
    // The rest of the row after the fields taken and the separator that follows them, as
    // written (words.txt's "tench, Tinca tinca").
    std::string_view rest() const;

  private:
    std::size_t after_separator() const;

    std::string_view row_;
    std::size_t position_ = 0;
    bool taken_ = false;
};

// A file's bytes (util/fs.hpp's read_file) as the text the readers above take, not copied.
std::string_view as_text(std::span<const std::uint8_t> bytes);

// text without the blanks and line ends (" \t\r\n") around it.
std::string_view trim_blanks(std::string_view text);

}  // namespace synshard
