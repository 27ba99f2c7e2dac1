#include "synshard/corpus/val_labels.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "synshard/corpus/boxes.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/text_lines.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::corpus {
namespace {

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return value;
}

// The number a line-format label file uses for the image: the stem's trailing digits.
std::optional<std::uint64_t> trailing_number(std::string_view stem) {
    std::size_t start = stem.size();
    while (start > 0 && stem[start - 1] >= '0' && stem[start - 1] <= '9') --start;
    if (start == stem.size() || stem.size() - start > 18) return std::nullopt;
    return parse_unsigned(stem.substr(start));
}

// The format whose rows look like `row` (the first of the file), if any.
std::optional<ValLabels::Format> format_of(std::string_view row) {
    TextFields fields(row);
    const auto first = fields.next();
    if (wordnet::is_wnid(first)) return ValLabels::Format::wnid_lines;
    if (parse_unsigned(first) && fields.at_end()) return ValLabels::Format::devkit_ids;
    if (wordnet::is_wnid(fields.next())) return ValLabels::Format::loc_csv;
    return std::nullopt;
}

}  // namespace

ValLabels ValLabels::read(const std::filesystem::path& file, const Devkit* devkit) {
    std::vector<std::uint8_t> bytes;
    try {
        bytes = read_file(file);
    } catch (const Error& error) {
        throw UsageError(std::string("--val-labels: ") + error.what());
    }
    return parse(bytes, "--val-labels " + file.string(), devkit);
}

ValLabels ValLabels::parse(std::span<const std::uint8_t> bytes, const std::string& name,
                           const Devkit* devkit) {
    TextRows rows(as_text(bytes));
    auto row = rows.next();
    if (!row) throw UsageError(name + " holds no label");
    const auto where = [&] { return name + ":" + std::to_string(row->number); };
    const auto format = format_of(row->text);
    if (!format) {
        throw UsageError(
            where() + ": neither LOC_val_solution.csv, a devkit ground truth nor one wnid a line");
    }
    if (*format == Format::devkit_ids && devkit == nullptr) {
        throw UsageError(name +
                         " holds ILSVRC2012_IDs: --devkit (a devkit folder, its class file or its "
                         "archive) is needed");
    }
    ValLabels labels;
    labels.format_ = *format;
    labels.content_ = content_digest(bytes);
    labels.first_line_ = row->number;
    for (; row; row = rows.next()) {
        if (labels.format_ == Format::loc_csv) {
            const LocCsvRow parsed = parse_loc_csv_row(*row, name);
            if (parsed.boxes.empty() || !wordnet::is_wnid(parsed.boxes.front().name))
                throw UsageError(where() + ": no wnid labels " + std::string(parsed.image_id));
            labels.by_stem_.emplace(parsed.image_id,
                                    Label{std::string(parsed.boxes.front().name), {}});
            continue;
        }
        // Row i labels image i: a blank line among them would shift every later label.
        const std::uint64_t number = labels.by_number_.size() + 1;
        if (row->number != labels.first_line_ + number - 1) {
            throw UsageError(name + ":" + std::to_string(labels.first_line_ + number - 1) +
                             ": a blank line among the labels (line i labels image i)");
        }
        TextFields fields(row->text);
        const auto value = fields.next();
        Label label;
        if (labels.format_ == Format::devkit_ids) {
            const auto id = parse_unsigned(value);
            if (!id || !fields.at_end())
                throw UsageError(where() + ": '" + std::string(row->text) +
                                 "' is not an ILSVRC2012_ID");
            const auto found = *id <= std::numeric_limits<int>::max()
                                   ? devkit->wnid_by_id.find(static_cast<int>(*id))
                                   : devkit->wnid_by_id.end();
            if (found != devkit->wnid_by_id.end())
                label.wnid = found->second;
            else
                label.problem = where() + ": ILSVRC2012_ID " + std::string(value) + " is not in " +
                                devkit->origin();
        } else {
            if (!wordnet::is_wnid(value))
                throw UsageError(where() + ": '" + std::string(value) + "' is not a wnid");
            label.wnid = value;
        }
        labels.by_number_.emplace(number, std::move(label));
    }
    return labels;
}

std::optional<ValLabels::Label> ValLabels::find(std::string_view stem) const {
    if (format_ == Format::loc_csv) {
        const auto found = by_stem_.find(stem);
        if (found == by_stem_.end()) return std::nullopt;
        return found->second;
    }
    const auto number = trailing_number(stem);
    if (!number) return std::nullopt;
    const auto found = by_number_.find(*number);
    if (found == by_number_.end()) return std::nullopt;
    return found->second;
}

std::vector<std::string> ValLabels::labels_without_image(
    const std::vector<std::string>& stems) const {
    std::vector<std::string> missing;
    if (format_ == Format::loc_csv) {
        std::vector<std::string> sorted = stems;
        std::sort(sorted.begin(), sorted.end());
        for (const auto& [stem, label] : by_stem_) {
            if (!std::binary_search(sorted.begin(), sorted.end(), stem)) missing.push_back(stem);
        }
    } else {
        std::vector<std::uint64_t> numbers;
        for (const auto& stem : stems) {
            if (auto number = trailing_number(stem)) numbers.push_back(*number);
        }
        std::sort(numbers.begin(), numbers.end());
        for (const auto& [number, label] : by_number_) {
            if (!std::binary_search(numbers.begin(), numbers.end(), number)) {
                missing.push_back("line " + std::to_string(first_line_ + number - 1));
            }
        }
    }
    std::sort(missing.begin(), missing.end());
    return missing;
}

}  // namespace synshard::corpus
