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
// or a corpus a previous `synth` wrote and nobody added to: every entry anywhere in it
// (symbolic links not followed) is one its synth-files.txt lists. Writes nothing.
void check_output(const std::filesystem::path& output);

// Writes plan_corpus(options) under options.output, in the ilsvrc layout:
//   train/<wnid>/<wnid>_<n>.JPEG       train_tars/<wnid>.tar (same members and bytes)
//   val/ILSVRC2012_val_<8 digits>.JPEG  Annotation/<wnid>/<wnid>_<n>.xml
// or in the kaggle layout:
//   ILSVRC/Data/CLS-LOC/train/<wnid>/<wnid>_<n>.JPEG
//   ILSVRC/Data/CLS-LOC/val/ILSVRC2012_val_<8 digits>.JPEG
//   ILSVRC/Annotations/CLS-LOC/train/<wnid>/<wnid>_<n>.xml
//   ILSVRC/Annotations/CLS-LOC/val/ILSVRC2012_val_<8 digits>.xml (the csv's val boxes)
// or in the archives layout, the official downloads (layouts.hpp):
//   ILSVRC2012_img_train.tar (<wnid>.tar members, each the ilsvrc layout's train_tars
//   file) and ILSVRC2012_img_train.tar.gz (the same tar gzipped), ILSVRC2012_img_val.tar,
//   ILSVRC2012_bbox_train_v2.tar.gz, ILSVRC2012_bbox_val_v3.tgz (the kaggle layout's val
//   XMLs), ILSVRC2012_devkit_t12.tar.gz (meta.mat, the val ground truth)
// and in all:
//   LOC_synset_mapping.txt  LOC_val_solution.csv  LOC_train_solution.csv
//   synth.json (the options)  quirks.json (--quirks)
//   synth-files.txt (every file and folder synth made, itself included: one relative
//     '/'-separated path a line, folders ending in '/')
// Every byte is a function of the options; a file two layouts hold, as a file or a tar
// member, has the same bytes in each (synth.json, quirks.json and synth-files.txt aside,
// which name the layout and its paths). The corpus is built in "<output>.tmp", synced,
// then renamed into place, replacing a previous synth corpus; a crash leaves the old one
// (or none). Replacing a corpus, or the "<output>.tmp" a crash left, removes exactly what
// its list names (each entry is listed, flushed, before it is made), and nothing at all if
// it holds an entry the list does not name: that is a UsageError naming the entry.
// Expects validate_options() to pass; throws Error.
SynthSummary generate_corpus(const SynthOptions& options);

}  // namespace synshard::synth
