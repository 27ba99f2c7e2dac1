#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "synshard/corpus/boxes.hpp"
#include "synshard/corpus/listing.hpp"

namespace synshard::corpus {

namespace po = boost::program_options;

// How class labels are numbered (recorded in every output).
enum class LabelScheme {
    sorted,         // alphabetical wnid over the selected classes, 0..C-1 (torchvision/TFDS)
    file,           // the order of the --classes file, 0..C-1 over the classes that remain
    ilsvrc2012_id,  // the devkit's ILSVRC2012_ID - 1 over its whole table (needs --devkit)
};
std::string_view to_string(LabelScheme scheme);

// What the user brings and how it is selected and split; shared by `plan` and `convert`.
struct CorpusOptions {
    std::filesystem::path input;                      // --input: train root
    std::optional<std::filesystem::path> val_input;   // --val-input
    std::optional<std::filesystem::path> val_labels;  // --val-labels
    std::vector<std::filesystem::path> boxes;         // --boxes (repeatable)
    BoxOrigin box_origin = BoxOrigin::zero;           // --box-origin
    std::optional<std::filesystem::path> classes;     // --classes
    std::optional<std::filesystem::path> wordnet;     // --wordnet (default /usr/share/wordnet)
    std::optional<std::filesystem::path> devkit;      // --devkit
    LabelScheme label_scheme = LabelScheme::sorted;   // --label-scheme
    std::uint64_t seed = 0;                           // --seed
    std::optional<std::uint64_t> val_per_class;       // --val-per-class K
    std::optional<double> val_fraction;               // --val-fraction F
    std::uint64_t min_per_class = 1;                  // --min-per-class N
    std::optional<std::uint64_t> max_per_class;       // --max-per-class M
    std::uint64_t max_member_bytes = 64ull << 20;     // --max-member-bytes
    // --fingerprint: how closely a resume checks that the images are unchanged. Not a
    // recorded option: it shapes only the resume fingerprint (survey::PlanResult).
    FingerprintMode fingerprint = FingerprintMode::stat;
    // --archive-index FILE: where a gzipped --input's seek index (and beside it the walks of
    // its inner tars), or a plain archive's inner walks, are saved and reused across runs
    // (the user's file: kept, never removed by --restart; every rank reads it, so it lies
    // on a file system they share). convert keeps an archive input's in OUT without it
    // (convert/output_files.hpp). Not a recorded option: what is saved is checked against
    // the archive, never trusted.
    std::optional<std::filesystem::path> archive_index;
};

// Declares the options above (--input required).
void add_corpus_options(po::options_description& options);

// Reads and validates them. Throws UsageError naming the option for a missing path,
// --val-per-class together with --val-fraction or --val-input, a fraction outside [0, 1),
// --label-scheme file without --classes, ilsvrc2012-id without --devkit, --val-labels
// without --val-input, a zero --max-per-class / --max-member-bytes, or a gzipped --input
// without --archive-index when the command keeps no index of its own
// (default_archive_index: where it does).
CorpusOptions corpus_options_from(
    const po::variables_map& values,
    const std::optional<std::filesystem::path>& default_archive_index = std::nullopt);

}  // namespace synshard::corpus
