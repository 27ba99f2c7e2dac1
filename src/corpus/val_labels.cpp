#include "synshard/corpus/val_labels.hpp"

#include <algorithm>
#include <charconv>

#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::corpus {
namespace {

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t position = 0;
    while (position < text.size()) {
        const std::size_t end = std::min(text.find('\n', position), text.size());
        lines.push_back(trim(text.substr(position, end - position)));
        position = end + 1;
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
}

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

}  // namespace

ValLabels ValLabels::read(const std::filesystem::path& file, const Devkit* devkit) {
    std::vector<std::uint8_t> bytes;
    try {
        bytes = read_file(file);
    } catch (const Error& error) {
        throw UsageError(std::string("--val-labels: ") + error.what());
    }
    const std::string text(bytes.begin(), bytes.end());
    const auto lines = lines_of(text);
    const auto first = std::find_if(lines.begin(), lines.end(),
                                    [](std::string_view line) { return !line.empty(); });
    if (first == lines.end()) throw UsageError("--val-labels " + file.string() + " is empty");
    ValLabels labels;
    labels.content_ = content_digest(bytes);
    if (first->starts_with("ImageId") || first->find(',') != std::string_view::npos) {
        labels.format_ = Format::loc_csv;
    } else if (parse_unsigned(*first)) {
        labels.format_ = Format::devkit_ids;
        if (devkit == nullptr) {
            throw UsageError("--val-labels " + file.string() +
                             " holds ILSVRC2012_IDs: --devkit DIR (with data/meta.mat) is needed");
        }
    } else if (wordnet::is_wnid(first->substr(0, std::min(first->find(' '), first->size())))) {
        labels.format_ = Format::wnid_lines;
    } else {
        throw UsageError(
            "--val-labels " + file.string() +
            ": neither LOC_val_solution.csv, a devkit ground truth nor one wnid a line");
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string_view line = lines[i];
        const std::string where = "line " + std::to_string(i + 1);
        if (labels.format_ == Format::loc_csv) {
            if (line.empty() || line.starts_with("ImageId")) continue;
            const auto comma = line.find(',');
            const std::string stem(trim(line.substr(0, comma)));
            const std::string_view rest =
                comma == std::string_view::npos ? std::string_view() : trim(line.substr(comma + 1));
            const std::string_view wnid = rest.substr(0, std::min(rest.find(' '), rest.size()));
            Label label;
            if (wordnet::is_wnid(wnid))
                label.wnid = wnid;
            else
                label.problem =
                    "--val-labels " + where + ": no wnid in '" + std::string(line) + "'";
            labels.by_stem_.emplace(stem, std::move(label));
            continue;
        }
        Label label;
        if (labels.format_ == Format::devkit_ids) {
            const auto id = parse_unsigned(line);
            const auto found =
                id ? devkit->wnid_by_id.find(static_cast<int>(*id)) : devkit->wnid_by_id.end();
            if (found != devkit->wnid_by_id.end())
                label.wnid = found->second;
            else
                label.problem = "--val-labels " + where + ": ILSVRC2012_ID '" + std::string(line) +
                                "' is not in " + devkit->meta_mat.string();
        } else {
            const std::string_view wnid = line.substr(0, std::min(line.find(' '), line.size()));
            if (wordnet::is_wnid(wnid))
                label.wnid = wnid;
            else
                label.problem =
                    "--val-labels " + where + ": '" + std::string(line) + "' is not a wnid";
        }
        labels.by_number_.emplace(i + 1, std::move(label));
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
                missing.push_back("line " + std::to_string(number));
            }
        }
    }
    std::sort(missing.begin(), missing.end());
    return missing;
}

}  // namespace synshard::corpus
