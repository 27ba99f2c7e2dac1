#include "synshard/corpus/options.hpp"

#include <limits>

#include "synshard/corpus/archive_input.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/option_values.hpp"

namespace synshard::corpus {
namespace {

namespace fs = std::filesystem;

// Far more images than any class has, and far from where per-class counts would wrap.
constexpr std::uint64_t kMaxPerClass = 1'000'000'000;

// The largest input file or tar member --max-member-bytes may let through: the image
// decoders take sizes as int (and the pipeline's --max-input-bytes stops there too).
constexpr std::uint64_t kMaxMemberBytes = std::numeric_limits<int>::max();

std::optional<fs::path> existing_path(const po::variables_map& values, const char* name) {
    if (values.count(name) == 0) return std::nullopt;
    fs::path path = values[name].as<std::string>();
    std::error_code error;
    if (!fs::exists(path, error)) {
        throw UsageError(std::string("--") + name + " " + path.string() + " does not exist");
    }
    return path;
}

LabelScheme parse_scheme(const std::string& text) {
    if (text == "sorted") return LabelScheme::sorted;
    if (text == "file") return LabelScheme::file;
    if (text == "ilsvrc2012-id") return LabelScheme::ilsvrc2012_id;
    throw UsageError("--label-scheme must be sorted, file or ilsvrc2012-id, not '" + text + "'");
}

FingerprintMode parse_fingerprint_mode(const std::string& text) {
    if (text == "stat") return FingerprintMode::stat;
    if (text == "content") return FingerprintMode::content;
    throw UsageError("--fingerprint must be stat or content, not '" + text + "'");
}

}  // namespace

std::string_view to_string(LabelScheme scheme) {
    switch (scheme) {
        case LabelScheme::sorted:
            return "sorted";
        case LabelScheme::file:
            return "file";
        case LabelScheme::ilsvrc2012_id:
            return "ilsvrc2012-id";
    }
    return "sorted";
}

void add_corpus_options(po::options_description& options) {
    options.add_options()  //
        ("input", po::value<std::string>()->required()->value_name("DIR"),
         "train root: nXXXXXXXX/ folders or nXXXXXXXX.tar files (detected)")  //
        ("val-input", po::value<std::string>()->value_name("DIR"),
         "official val images: a flat folder (labels from --val-labels) or synset folders")  //
        ("val-labels", po::value<std::string>()->value_name("FILE"),
         "LOC_val_solution.csv, the devkit's ILSVRC2012_validation_ground_truth.txt, or one "
         "wnid a line (detected)")  //
        ("boxes", po::value<std::vector<std::string>>()->composing()->value_name("PATH"),
         "boxes: an Annotation folder (nXXXXXXXX/*.xml), a tar of XML files as downloaded "
         "(ILSVRC2012_bbox_train_v2.tar.gz), a folder of box tars, or a LOC csv "
         "(repeatable; the first source to annotate an image wins, then --val-labels' LOC "
         "csv)")  //
        ("box-origin", bounded_value<std::uint32_t>(0, 1)->default_value(0)->value_name("N"),
         "the first pixel's index in the box files: 0 as in ImageNet's XML and LOC csv, 1 as "
         "in PASCAL VOC's own (0..1)")  //
        ("classes", po::value<std::string>()->value_name("FILE"),
         "keep only these classes: LOC_synset_mapping.txt or one wnid a line")  //
        ("wordnet", po::value<std::string>()->value_name("DIR"),
         "WordNet data.noun folder, or words.txt + wordnet.is_a.txt (default "
         "/usr/share/wordnet)")  //
        ("devkit", po::value<std::string>()->value_name("PATH"),
         "ILSVRC devkit for ground-truth IDs and --label-scheme ilsvrc2012-id: its folder, "
         "data/meta.mat, meta_clsloc.mat or map_clsloc.txt, or the devkit archive "
         "(ILSVRC2012_devkit_t12.tar.gz)")  //
        ("label-scheme", po::value<std::string>()->default_value("sorted")->value_name("NAME"),
         "sorted (alphabetical wnid), file (--classes order) or ilsvrc2012-id (devkit ID - 1)")  //
        ("seed", bounded_value<std::uint64_t>(0)->default_value(0)->value_name("S"),
         "seed of the keyed hash that orders selection, split and shards (0 or more)")  //
        ("val-per-class", bounded_value<std::uint64_t>(0, kMaxPerClass)->value_name("K"),
         "without --val-input: min(K, n/2) images of each class go to val (0..1000000000)")  //
        ("val-fraction", bounded_value<double>(0, 1, Maximum::excluded)->value_name("F"),
         "without --val-input: round(F*n) images of each class go to val (0..1, 1 "
         "excluded)")  //
        ("min-per-class",
         bounded_value<std::uint64_t>(0, kMaxPerClass)->default_value(1)->value_name("N"),
         "drop classes with fewer than N train images (0..1000000000)")  //
        ("max-per-class", bounded_value<std::uint64_t>(1, kMaxPerClass)->value_name("M"),
         "keep each class's M images of smallest hash (before the split) (1..1000000000)")  //
        ("max-member-bytes",
         bounded_value<std::uint64_t>(1, kMaxMemberBytes)
             ->default_value(64ull << 20)
             ->value_name("B"),
         "reject an input file or tar member larger than B bytes before reading it "
         "(1..2147483647)")  //
        ("fingerprint", po::value<std::string>()->default_value("stat")->value_name("MODE"),
         "what a resume checks of each image: stat (size and modification time) or content "
         "(also its bytes: the survey reads every image)")  //
        ("archive-index", po::value<std::string>()->value_name("FILE"),
         "save the seek index of a gzipped --input (winter21_whole.tar.gz), or the listings of "
         "an archive's inner tars, here and reuse them in later runs while the archive is "
         "unchanged (never removed by --restart; convert's default for an archive --input: "
         "OUT/archive.index until the run is complete)");
}

CorpusOptions corpus_options_from(const po::variables_map& values,
                                  const std::optional<fs::path>& default_archive_index) {
    CorpusOptions options;
    options.input = *existing_path(values, "input");
    options.val_input = existing_path(values, "val-input");
    options.val_labels = existing_path(values, "val-labels");
    options.classes = existing_path(values, "classes");
    options.wordnet = existing_path(values, "wordnet");
    options.devkit = existing_path(values, "devkit");
    if (values.count("boxes") != 0) {
        for (const auto& path : values["boxes"].as<std::vector<std::string>>()) {
            std::error_code error;
            if (!fs::exists(path, error)) throw UsageError("--boxes " + path + " does not exist");
            options.boxes.emplace_back(path);
        }
    }
    options.box_origin = static_cast<BoxOrigin>(values["box-origin"].as<std::uint32_t>());
    options.label_scheme = parse_scheme(values["label-scheme"].as<std::string>());
    options.seed = values["seed"].as<std::uint64_t>();
    if (values.count("val-per-class") != 0)
        options.val_per_class = values["val-per-class"].as<std::uint64_t>();
    if (values.count("val-fraction") != 0)
        options.val_fraction = values["val-fraction"].as<double>();
    options.min_per_class = values["min-per-class"].as<std::uint64_t>();
    if (values.count("max-per-class") != 0)
        options.max_per_class = values["max-per-class"].as<std::uint64_t>();
    options.max_member_bytes = values["max-member-bytes"].as<std::uint64_t>();
    options.fingerprint = parse_fingerprint_mode(values["fingerprint"].as<std::string>());
    // An archive given as --input (plain or gzipped), not a folder, has an index to keep.
    std::error_code error;
    if (values.count("archive-index") != 0)
        options.archive_index = values["archive-index"].as<std::string>();
    else if (default_archive_index && fs::is_regular_file(options.input, error))
        options.archive_index = default_archive_index;

    if (!options.archive_index && is_gzip_file(options.input)) {
        throw UsageError("--input " + options.input.string() +
                         " is gzipped: name a file for its seek index with --archive-index FILE "
                         "(built in one pass, reused by later runs)");
    }
    if (options.val_per_class && options.val_fraction) {
        throw UsageError("--val-per-class and --val-fraction exclude each other");
    }
    if (options.val_input && (options.val_per_class || options.val_fraction)) {
        throw UsageError(
            "--val-input gives the val split; --val-per-class/--val-fraction would "
            "take another one from train");
    }
    if (options.val_labels && !options.val_input) {
        throw UsageError("--val-labels needs --val-input (the folder of the images it labels)");
    }
    if (options.label_scheme == LabelScheme::file && !options.classes) {
        throw UsageError("--label-scheme file needs --classes FILE");
    }
    if (options.label_scheme == LabelScheme::ilsvrc2012_id && !options.devkit) {
        throw UsageError("--label-scheme ilsvrc2012-id needs --devkit PATH");
    }
    return options;
}

}  // namespace synshard::corpus
