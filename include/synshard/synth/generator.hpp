#pragma once

#include <cstdint>
#include <filesystem>

#include "synshard/synth/plan.hpp"

namespace synshard::synth {

struct SynthSummary {
    int classes = 0;
    std::int64_t train_images = 0;  // files under train/ that are not hidden
    std::int64_t val_images = 0;
    std::int64_t files = 0;  // everything written, tars and metadata included
    std::uint64_t bytes = 0;
};

// Throws UsageError unless output can be (re)written: it is absent, an empty directory,
// or a corpus a previous `synth` wrote (it holds synth.json). Writes nothing.
void check_output(const std::filesystem::path& output);

// Writes plan_corpus(options) under options.output, in the ilsvrc layout:
//   train/<wnid>/<wnid>_<n>.JPEG       train_tars/<wnid>.tar (same members and bytes)
//   val/ILSVRC2012_val_<8 digits>.JPEG  Annotation/<wnid>/<wnid>_<n>.xml
// or in the kaggle layout:
//   ILSVRC/Data/CLS-LOC/train/<wnid>/<wnid>_<n>.JPEG
//   ILSVRC/Data/CLS-LOC/val/ILSVRC2012_val_<8 digits>.JPEG
//   ILSVRC/Annotations/CLS-LOC/train/<wnid>/<wnid>_<n>.xml
//   ILSVRC/Annotations/CLS-LOC/val/ILSVRC2012_val_<8 digits>.xml (the csv's val boxes)
// and in both:
//   LOC_synset_mapping.txt  LOC_val_solution.csv  LOC_train_solution.csv
//   synth.json (the options, marks the directory as synth's)  quirks.json (--quirks)
// Every byte is a function of the options; a file both layouts hold has the same bytes in
// each (synth.json and quirks.json aside, which name the layout and its paths). The corpus
// is built in "<output>.tmp", synced, then renamed into place, replacing a previous synth
// corpus; a crash leaves the old one (or none). Expects validate_options() and
// check_output() to pass; throws Error.
SynthSummary generate_corpus(const SynthOptions& options);

}  // namespace synshard::synth
