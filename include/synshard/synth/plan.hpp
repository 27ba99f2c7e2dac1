#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "synshard/synth/synsets.hpp"
#include "synshard/util/reason.hpp"

namespace synshard::synth {

struct ImageSize {
    int width = 0;
    int height = 0;

    friend bool operator==(const ImageSize&, const ImageSize&) = default;
};

// Where a corpus's files go (--layout). The files and their bytes are the same in every
// layout; layouts.hpp says where each one goes.
enum class Layout : std::uint8_t {
    ilsvrc,    // the official tars extracted, with the per-synset tars beside them
    kaggle,    // Kaggle's copy: ILSVRC/Data/CLS-LOC/..., ILSVRC/Annotations/CLS-LOC/...
    archives,  // the official downloads, not extracted: ILSVRC2012_img_train.tar, ...
};

// What `synshard synth` is asked to write.
struct SynthOptions {
    std::filesystem::path output;
    int num_classes = 10;
    // Mean train images per class; each class gets between 0.5x and 1.5x of it.
    int per_class = 40;
    int val_per_class = 5;
    std::uint64_t seed = 0;
    int quality = 90;
    // Share of train and val images drawn from the large tail (long side 800..2000).
    double large_fraction = 0.05;
    // Forces every regular image to this size (tiny corpora for scale benchmarks).
    std::optional<ImageSize> image_size;
    bool quirks = false;
    Layout layout = Layout::ilsvrc;
};

// The most train (and val) images a class may ask for.
inline constexpr int kMaxPerClass = 1'000'000;

// Throws UsageError naming the first option that cannot be honoured.
void validate_options(const SynthOptions& options);

// Parses "WxH" (e.g. "48x48"); throws UsageError on anything else or a side outside
// 1..20000 or more than 12 Mpixels.
ImageSize parse_image_size(std::string_view text);

// A box as ImageNet's XML and LOC csv files give it: 0-based pixel indices, maxima
// included (not PASCAL VOC's 1-based ones).
struct VocBox {
    int xmin = 0;
    int ymin = 0;
    int xmax = 0;
    int ymax = 0;

    friend bool operator==(const VocBox&, const VocBox&) = default;
};

// Everything the pixels of one generated photo depend on (with the corpus seed). Two
// files with equal specs hold identical pixels, which is how duplicates are made.
struct PhotoSpec {
    std::string key;   // seeds the pixels
    std::string wnid;  // the class whose object is drawn in each box
    ImageSize size;
    std::vector<VocBox> boxes;  // always inside the image
};

// How a train or val file's bytes are made from its photo.
enum class FileKind {
    jpeg,              // baseline colour JPEG (regular images, duplicates, too-small)
    grayscale_jpeg,    // one-component JPEG
    cmyk_jpeg,         // Adobe YCCK JPEG
    png,               // a PNG under a .JPEG name
    exif_rotated,      // JPEG with an APP1 Exif segment saying orientation 6
    progressive_jpeg,  // SOF2
    truncated_jpeg,    // cut inside the entropy-coded data
    corrupt_jpeg,      // entropy-coded bytes altered, markers intact
    huge_header_jpeg,  // a small JPEG whose SOF0 claims 40000x40000
    empty,             // 0 bytes
    text,              // not an image at all
    ds_store,          // macOS folder metadata, a hidden file
};

// Noise seen in real ImageNet box XMLs, written into a few annotations under --quirks.
enum class AnnotationNoise {
    none,
    box_outside_image,
    min_greater_than_max,
    float_coordinates,
    class_name_instead_of_wnid,
    filename_placeholder,
};

enum class XmlStyle { pretty, one_line };

struct TrainFile {
    std::string name;  // file name inside train/<wnid>/, e.g. "n01440764_1042.JPEG"
    FileKind kind = FileKind::jpeg;
    PhotoSpec photo;
    // Annotated files get Annotation/<wnid>/<stem>.xml and a LOC_train_solution.csv row.
    bool annotated = false;
    XmlStyle xml_style = XmlStyle::pretty;
    AnnotationNoise noise = AnnotationNoise::none;
};

struct ClassPlan {
    Synset synset;
    std::vector<TrainFile> files;  // sorted by name (byte order)
};

struct ValImage {
    std::string name;  // "ILSVRC2012_val_00000001.JPEG"
    std::string wnid;
    PhotoSpec photo;  // its boxes go to LOC_val_solution.csv
};

// One entry of quirks.json: a file that is a known trap, and what a converter should do.
struct QuirkRecord {
    // Relative to the output directory, '/'-separated, in the ilsvrc layout (layout_path
    // gives its place in another).
    std::string path;
    std::string quirk;  // "grayscale", "cmyk", ...
    // The reason a converter should reject it with; nullopt: it must be converted.
    std::optional<Reason> expected_reason;
    std::string same_as;  // for duplicates and the val leak: the file with equal bytes
};

struct CorpusPlan {
    std::vector<ClassPlan> classes;   // alphabetical by wnid (LOC_synset_mapping.txt order)
    std::vector<ValImage> val;        // by name
    std::vector<QuirkRecord> quirks;  // by path
};

// The whole corpus as a pure function of the options (the output path aside): which
// classes, which files, their sizes, boxes and kinds. Every file's content depends only
// on the seed and its own key, so generation order does not matter. Classes are the first
// num_classes entries of embedded_synsets(), whatever the seed. Expects valid options.
CorpusPlan plan_corpus(const SynthOptions& options);

// "train/<wnid>/<name>" (in the ilsvrc layout)
std::string train_path(const ClassPlan& plan, const TrainFile& file);

// "n01440764_1042.JPEG" -> "n01440764_1042"; names without a dot are returned whole.
std::string file_stem(std::string_view name);

}  // namespace synshard::synth
