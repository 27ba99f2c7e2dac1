#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "synshard/corpus/devkit.hpp"

namespace synshard::corpus {

// Labels of the official val images, read from one of three formats, detected by the
// first row, each in any of the forms TextRows (util/text_lines.hpp) takes as the clean file:
// - `LOC_val_solution.csv` (header `ImageId,PredictionString`; an image's label is the
//   first wnid of its row), matched by image stem;
// - the devkit's `ILSVRC2012_validation_ground_truth.txt` (one ILSVRC2012_ID a line,
//   resolved through meta.mat: a devkit is required);
// - one wnid a line (anything after the wnid ignored).
// Row i (1-based, below any header) of a line format labels the image whose stem ends in
// the number i (`ILSVRC2012_val_00000001` is image 1).
class ValLabels {
  public:
    enum class Format { loc_csv, devkit_ids, wnid_lines };

    // Throws UsageError if the file is unreadable, holds no label or is of no known
    // format, if it needs a devkit and none was given, and, naming the file and line, for
    // a row that cannot be parsed: a LOC row parse_loc_csv_row (corpus/boxes.hpp) refuses
    // or whose first box names no wnid, a line that is no number (no wnid), a blank line
    // between labels of a line format. An ILSVRC2012_ID meta.mat does not know is kept as
    // that image's problem.
    static ValLabels read(const std::filesystem::path& file, const Devkit* devkit);
    // The same on bytes already read, named `name` in messages ("--val-labels FILE").
    static ValLabels parse(std::span<const std::uint8_t> bytes, const std::string& name,
                           const Devkit* devkit);

    Format format() const { return format_; }
    // The content_digest (util/hash.hpp) of the bytes read.
    const std::string& content() const { return content_; }

    // What labels the image with this file stem: a wnid (possibly not a known class),
    // or, when its label cannot be resolved (an ID missing from meta.mat), an empty wnid
    // and a problem text naming the file and line; nullopt when nothing labels it.
    struct Label {
        std::string wnid;
        std::string problem;
    };
    std::optional<Label> find(std::string_view stem) const;

    // The labels that no image among `stems` uses ("label for a missing image"), named
    // by stem (CSV) or by the file's line number ("line 7"); sorted.
    std::vector<std::string> labels_without_image(const std::vector<std::string>& stems) const;

  private:
    Format format_ = Format::wnid_lines;
    std::string content_;
    // The file's line of the first label (image 1 of a line format).
    std::size_t first_line_ = 1;
    std::map<std::string, Label, std::less<>> by_stem_;
    std::map<std::uint64_t, Label> by_number_;
};

}  // namespace synshard::corpus
