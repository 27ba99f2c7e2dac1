// What one rank does to the corpus's sources while planning: find them, scan the ones it
// is given, and select and annotate their images. Private to survey/: survey.cpp runs
// these steps in the phases of make_plan. Nothing here talks to other ranks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "synshard/corpus/boxes.hpp"
#include "synshard/corpus/devkit.hpp"
#include "synshard/corpus/listing.hpp"
#include "synshard/corpus/options.hpp"
#include "synshard/corpus/val_labels.hpp"
#include "synshard/manifest/fingerprint.hpp"
#include "synshard/plan/selection.hpp"
#include "synshard/survey/encoded_items.hpp"
#include "synshard/util/reason.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::survey {

// Everything every rank knows before scanning, identical on all ranks: the sources and
// the reference files the options name, read.
struct Inputs {
    std::vector<corpus::Source> sources;  // train (by name), then val (by name)
    std::vector<Rejection> discovery_rejected;
    std::optional<std::vector<std::string>> class_list;
    std::optional<corpus::Devkit> devkit;
    std::optional<std::filesystem::path> val_labels_file;
    // Set when the flat val folder's labels are the devkit archive's ground truth.
    bool val_labels_in_devkit = false;
    wordnet::Hierarchy hierarchy;
    // The metadata read here, named and digested for the resume fingerprint
    // (manifest::ResumeFingerprint): the WordNet files, --classes, --devkit's class file.
    std::vector<std::pair<std::string, std::string>> metadata;
};

// "<option> <canonical path>": how the resume fingerprint names a metadata input.
std::string metadata_name(std::string_view option, const std::filesystem::path& path);

// Loads WordNet, finds the train and val sources, reads --classes and --devkit, and picks
// the val labels file (--val-labels, else the devkit's ground truth for a flat val
// folder). Throws UsageError for a flat --val-input without labels, and whatever the
// corpus readers throw.
Inputs discover(const corpus::CorpusOptions& options);

// The rank that scans inputs.sources[source] among `ranks`: train sources round-robin in
// name order, every val source on the last rank (so one rank reads the val labels).
int scanner_of(const Inputs& inputs, std::size_t source, int ranks);

// The flat val folder: its images' classes come from the val labels file.
bool labeled_by_file(const corpus::Source& source);

// A source this rank scanned.
struct Scanned {
    std::size_t source = 0;  // index into Inputs::sources
    // Of everything listed, read or not: any change to the inputs changes it.
    manifest::GroupDigest digest;
    // The source's digest in the resume fingerprint (manifest::ResumeFingerprint): also
    // each image's modification time (a tar's own size and time), and in content mode
    // its bytes'.
    std::string resume_digest;
    // Key order. After scan_source: wnid set; after select_source_images: the planned
    // items, complete.
    EncodedItems items;
    std::vector<Rejection> rejected;
    // Set by select_source_images: planned images per label and split, planned bytes per
    // split.
    std::map<std::int32_t, std::array<std::uint64_t, 2>> per_label;
    std::array<std::uint64_t, 2> split_bytes{};
};

// Lists inputs.sources[index] and gives each listed image its wnid: the source's, or for
// the flat val folder the one val_labels gives its stem (val_labels must then be set).
// What cannot be classed is rejected; labels in val_labels naming no image of the flat
// val folder become one note appended to `notes`. `walk`: as corpus::list_source's.
Scanned scan_source(const Inputs& inputs, std::size_t index, const corpus::CorpusOptions& options,
                    const corpus::ValLabels* val_labels, std::vector<std::string>& notes,
                    std::optional<corpus::OuterListing>* walk = nullptr);

// WordNet's words of the selected classes (lower case) that name exactly one of them: how
// a box annotated with a class name instead of a wnid finds its class in a val image.
std::map<std::string, std::string> unique_class_words(const plan::ClassSelection& selection,
                                                      const wordnet::Hierarchy& hierarchy);

// Applies the class selection, cap and split to one scanned source and attaches its
// images' boxes from `boxes` (the boxes of the source's prefix), adding the box keys it
// used to used_box_keys and the boxes it gave to their source's `given` in
// source_stats. Rejects what is not selected or over the cap; sets per_label and
// split_bytes.
void select_source_images(Scanned& scanned, const Inputs& inputs,
                          const plan::ClassSelection& selection,
                          const corpus::CorpusOptions& options, const corpus::ImageBoxMap& boxes,
                          std::set<std::string>& used_box_keys,
                          std::vector<corpus::BoxStats>& source_stats,
                          const std::map<std::string, std::string>& wnid_by_word);

}  // namespace synshard::survey
