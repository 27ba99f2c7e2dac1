#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "synshard/image/box.hpp"
#include "synshard/util/text_lines.hpp"

namespace synshard::corpus {

// What happened to the annotations read; summed over ranks, so every field is a count.
struct BoxStats {
    std::uint64_t files = 0;         // XML documents (or CSV rows) read
    std::uint64_t unparseable = 0;   // XML documents that could not be parsed at all
    std::uint64_t boxes = 0;         // boxes kept
    std::uint64_t fixed = 0;         // kept after clamping into the image
    std::uint64_t dropped = 0;       // empty or inverted (after clamping), or not numbers
    std::uint64_t class_names = 0;   // a class name where a wnid belongs
    std::uint64_t placeholders = 0;  // <filename> not naming the annotated image
    std::uint64_t unmatched = 0;     // annotations for images that are not in the plan
    std::uint64_t given = 0;         // boxes given to planned images (the stored boxes)

    BoxStats& operator+=(const BoxStats& other);
    friend bool operator==(const BoxStats&, const BoxStats&) = default;
};

// How a box file numbers pixels (--box-origin). Both give inclusive maxima.
enum class BoxOrigin {
    zero = 0,  // ImageNet's XML and LOC csv files: the first pixel is 0
    one = 1,   // PASCAL VOC's own files: the first pixel is 1
};

// A box as annotated: its class as written (a wnid, or sometimes a class name).
struct AnnotatedBox {
    image::Box box;
    std::string name;

    friend bool operator==(const AnnotatedBox&, const AnnotatedBox&) = default;
};

// A box as a file gives it (pixel indices from `origin`, maxima included, possibly
// fractional) in the image::Box convention: (xmin, ymin, xmax + 1, ymax + 1) less the
// origin; clamped to [0, width] x [0, height] when the size is known (> 0), and to >= 0
// otherwise. Returns nullopt, counting it `dropped`, when the result is empty or
// inverted; counts `fixed` when clamping changed it (a box ending on the last pixel is
// inside).
std::optional<image::Box> continuous_box(double xmin, double ymin, double xmax, double ymax,
                                         int width, int height, BoxOrigin origin, BoxStats& stats);

// Parses one VOC XML document (pretty-printed or on one line) and converts its boxes
// with continuous_box. `stem` is the annotated image's name without extension, taken from
// the annotation's file name because <filename> holds placeholders in real files; a
// <filename> naming something else counts as a placeholder. Returns nullopt (counted
// `unparseable`) for a document that is not VOC XML.
std::optional<std::vector<AnnotatedBox>> parse_voc_xml(std::string_view xml, std::string_view stem,
                                                       BoxStats& stats,
                                                       BoxOrigin origin = BoxOrigin::zero);

// One row of a LOC_*_solution.csv (as TextRows, util/text_lines.hpp, gives it): the image
// id, then each box's name as written (a wnid, or sometimes a class name) and corners as
// written, not yet converted.
struct LocCsvRow {
    struct Box {
        std::string_view name;
        std::array<double, 4> corners;  // xmin, ymin, xmax, ymax
    };
    std::string_view image_id;
    std::vector<Box> boxes;
};

// Parses "id,name xmin ymin xmax ymax name ..." (fields as TextFields splits them; an id
// alone has no box). Throws UsageError naming `file` and the row's line for anything
// else: no id, a field count that is not 1 + 5k, a corner that is no finite number.
LocCsvRow parse_loc_csv_row(const TextLine& row, std::string_view file);

// Boxes by image: the key is "<prefix>/<image stem>" where prefix is the wnid for train
// images and "val" for official val images (see box_key).
using BoxMap = std::unordered_map<std::string, std::vector<AnnotatedBox>>;

// "nXXXXXXXX/nXXXXXXXX_12" for key "nXXXXXXXX/nXXXXXXXX_12.JPEG": the key up to its
// file name's last '.'.
std::string box_key(std::string_view item_key);

// A source of boxes, as the command line names it.
struct BoxSource {
    std::string option;  // "--boxes" or "--val-labels"
    std::filesystem::path path;
    // --val-labels: a LOC csv that labels the val images also gives their boxes, and only
    // theirs (prefix "val").
    bool val_only = false;

    friend bool operator==(const BoxSource&, const BoxSource&) = default;
};

// The box sources in the order they win an image: each --boxes path in command-line order,
// then the --val-labels file (val_only), a path named again (symbolic links resolved)
// counting once, where it first appears.
std::vector<BoxSource> box_sources(const std::vector<std::filesystem::path>& boxes,
                                   const std::optional<std::filesystem::path>& val_labels);

// An image's boxes, and the source that gave them (an index into BoxLoader's sources).
struct ImageBoxes {
    std::size_t source = 0;
    std::vector<AnnotatedBox> boxes;

    friend bool operator==(const ImageBoxes&, const ImageBoxes&) = default;
};
using ImageBoxMap = std::unordered_map<std::string, ImageBoxes>;

// Loads the boxes of the images under the given prefixes ("nXXXXXXXX" wnids and/or "val")
// a prefix at a time, so that a rank holds one class's annotations rather than those of
// every class it plans. Each source is detected:
// - a CSV file (LOC_train_solution.csv / LOC_val_solution.csv: `ImageId,PredictionString`,
//   rows "id,wnid xmin ymin xmax ymax wnid ..." as parse_loc_csv_row reads them, every
//   row of the file, whichever prefixes are asked for); an id "nXXXXXXXX_..." belongs to that
//   wnid, any other id to "val". Its rows come in no useful order, so it is read once,
//   when the loader is made, for all the prefixes (a val_only source: for "val"); `take`
//   hands a prefix's rows over;
// - a tar of XML files, gzipped or not (`*.tar`, `*.tar.gz`, `*.tgz`: the official
//   ILSVRC2012_bbox_train_v2.tar.gz with members "nXXXXXXXX/<stem>.xml" and
//   ILSVRC2012_bbox_val_v3.tgz with "val/<stem>.xml"; a member outside such a folder
//   belongs to its stem's prefix, as a CSV id does). Streamed once, when the loader is
//   made, keeping only the asked prefixes' boxes (about 50 bytes per box and 130 per
//   annotated image); `take` hands a prefix's boxes over. An archive that breaks off is
//   an Error naming it;
// - a folder: for a wnid, `DIR/<wnid>/*.xml` and `DIR/<wnid>.tar[.gz]` (members `*.xml`
//   at any depth); for "val", `DIR/*.xml` and `DIR/val/*.xml`; read when `take` asks.
// Coordinates are read with `origin` (continuous_box). When two sources annotate the same
// image, the first one (in the given order) wins. Unparseable XML files are counted, never
// fatal; a CSV row that cannot be parsed is a UsageError naming the file and line; an
// unreadable source is an Error. What it reads is recorded for the resume
// fingerprint (read()).
class BoxLoader {
  public:
    // What was read of one source: a CSV file's bytes (prefix empty), or for a folder or
    // an archive the files of one prefix, as a SHA-256 (hex) over the lines "<path
    // relative to the folder or archive>\t<content_digest of the XML, or 'unreadable'>\n"
    // in reading order (a tar's members as "<tar>/<member>"; a tar that breaks adds
    // "<tar>\tarchive-error").
    struct Read {
        std::size_t source = 0;  // index into the sources given
        std::string prefix;
        std::string content;
    };

    BoxLoader(std::vector<BoxSource> sources, const std::set<std::string>& prefixes,
              BoxOrigin origin);

    // The boxes under one of the prefixes, keyed by box_key. Call it once per prefix: the
    // CSV rows and archive boxes it returns are no longer held, and a folder is read (and counted
    // in the stats) anew on every call.
    ImageBoxMap take(const std::string& prefix);

    // Everything read so far: each CSV source once, then each folder or archive source per
    // `take`.
    const std::vector<Read>& read() const { return read_; }
    // What each source's annotations gave so far, by index into the sources given.
    const std::vector<BoxStats>& stats() const { return stats_; }

  private:
    std::vector<BoxSource> sources_;
    BoxOrigin origin_;
    std::vector<BoxStats> stats_;
    std::vector<Read> read_;
    // For each CSV or archive source (by index in sources_): its boxes by prefix, read
    // when the loader was made and handed over by `take`.
    std::unordered_map<std::size_t, std::unordered_map<std::string, BoxMap>> preloaded_;
    // For each archive source: what it read of each prefix (Read::content), by prefix.
    std::unordered_map<std::size_t, std::unordered_map<std::string, std::string>> archive_reads_;
};

}  // namespace synshard::corpus
