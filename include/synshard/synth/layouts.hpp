#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "synshard/synth/plan.hpp"

struct archive;  // libarchive

namespace synshard::synth {

// "ilsvrc", "kaggle"
std::string_view to_string(Layout layout);
// The layout of that name; throws UsageError naming every layout otherwise.
Layout parse_layout(std::string_view name);

// The folders of a layout, relative to the corpus root and '/'-separated. The top files
// (the LOC_* files, synth.json, quirks.json) are at the root in every layout.
struct LayoutFolders {
    std::string train;        // <wnid>/<wnid>_<n>.JPEG
    std::string val;          // ILSVRC2012_val_<8 digits>.JPEG, flat
    std::string train_boxes;  // <wnid>/<wnid>_<n>.xml
    std::string val_boxes;    // ILSVRC2012_val_<8 digits>.xml; empty: the layout has none
    std::string train_tars;   // <wnid>.tar; empty: the layout has none
};
// ilsvrc: train, val, Annotation, (none), train_tars. kaggle: ILSVRC/Data/CLS-LOC/train,
// ILSVRC/Data/CLS-LOC/val, ILSVRC/Annotations/CLS-LOC/train, ILSVRC/Annotations/CLS-LOC/val,
// (none).
LayoutFolders layout_folders(Layout layout);

// Where a path in the plan's terms ("train/...", "val/..." or "Annotation/...", as the
// ilsvrc layout has them) lies in the layout; other paths are returned as they are.
std::string layout_path(const LayoutFolders& folders, std::string_view plan_path);

// One <object> of a PASCAL-VOC annotation. Coordinates are written as integers when
// they are whole and with one decimal otherwise (the float noise of real files).
struct VocObject {
    std::string name;
    double xmin = 0;
    double ymin = 0;
    double xmax = 0;
    double ymax = 0;
};

struct VocAnnotation {
    std::string folder;    // the wnid
    std::string filename;  // the image's stem, as in ImageNet's XMLs
    ImageSize size;
    std::vector<VocObject> objects;
};

// ImageNet's bounding-box XML, pretty-printed (tab-indented, as ImageNet ships most
// files) or on one line; no XML declaration. Written with pugixml.
std::string voc_annotation_xml(const VocAnnotation& annotation, XmlStyle style);

// One row of LOC_train_solution.csv / LOC_val_solution.csv.
struct LocRow {
    std::string image_id;  // file stem
    std::string wnid;
    std::vector<VocBox> boxes;
};

// "ImageId,PredictionString\n" then "id,wnid xmin ymin xmax ymax wnid ... \n" per row,
// each box group followed by one space, rows in the given order.
std::string loc_solution_csv(std::span<const LocRow> rows);

// LOC_synset_mapping.txt: "wnid words\n" per class in the given order.
std::string synset_mapping_text(std::span<const ClassPlan> classes);

// Writes a tar with fixed metadata, so that equal members give equal bytes: pax-restricted
// (plain ustar headers for short names), regular files only, mode 0644, uid/gid 0, no
// owner names, mtime 0. Members appear in the order added. The file is complete only
// after close(), which reports errors; the destructor never throws.
class TarWriter {
  public:
    explicit TarWriter(const std::filesystem::path& path);
    ~TarWriter();
    TarWriter(const TarWriter&) = delete;
    TarWriter& operator=(const TarWriter&) = delete;

    void add(const std::string& name, std::span<const std::uint8_t> bytes);
    // Flushes the end-of-archive blocks and closes; throws Error naming the file.
    void close();

  private:
    std::filesystem::path path_;
    archive* archive_;
};

}  // namespace synshard::synth
