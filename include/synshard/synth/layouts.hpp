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

// "ilsvrc", "kaggle", "archives"
std::string_view to_string(Layout layout);
// The layout of that name; throws UsageError naming every layout otherwise.
Layout parse_layout(std::string_view name);

// The folders of a layout, relative to the corpus root and '/'-separated. The top files
// (the LOC_* files, synth.json, quirks.json, synth-files.txt) are at the root in every
// layout. In the archives layout a "folder" is an archive, or a folder inside one.
struct LayoutFolders {
    std::string train;        // <wnid>/<wnid>_<n>.JPEG
    std::string val;          // ILSVRC2012_val_<8 digits>.JPEG, flat
    std::string train_boxes;  // <wnid>/<wnid>_<n>.xml
    std::string val_boxes;    // ILSVRC2012_val_<8 digits>.xml; empty: the layout has none
    std::string train_tars;   // <wnid>.tar; empty: the layout has none
    // train holds <wnid>.tar/<wnid>_<n>.JPEG: the class folders are tars.
    bool classes_are_tars = false;
};
// ilsvrc: train, val, Annotation, (none), train_tars. kaggle: ILSVRC/Data/CLS-LOC/train,
// ILSVRC/Data/CLS-LOC/val, ILSVRC/Annotations/CLS-LOC/train, ILSVRC/Annotations/CLS-LOC/val,
// (none). archives: the archives below, the val boxes in ILSVRC2012_bbox_val_v3.tgz/val,
// (none), and the class folders are tars.
LayoutFolders layout_folders(Layout layout);

// The official downloads the archives layout writes at the corpus root: the train tar
// (its members <wnid>.tar, each the ilsvrc layout's train_tars/<wnid>.tar byte for byte),
// that same tar gzipped (the form ImageNet-21k's winter21_whole.tar.gz has), the flat val
// tar, the gzipped box tars (<wnid>/<stem>.xml; val/<stem>.xml) and the devkit
// (ILSVRC2012_devkit_t12/data/meta.mat and ILSVRC2012_validation_ground_truth.txt).
inline constexpr const char* kTrainArchive = "ILSVRC2012_img_train.tar";
inline constexpr const char* kGzippedTrainArchive = "ILSVRC2012_img_train.tar.gz";
inline constexpr const char* kValArchive = "ILSVRC2012_img_val.tar";
inline constexpr const char* kTrainBoxesArchive = "ILSVRC2012_bbox_train_v2.tar.gz";
inline constexpr const char* kValBoxesArchive = "ILSVRC2012_bbox_val_v3.tgz";
inline constexpr const char* kDevkitArchive = "ILSVRC2012_devkit_t12.tar.gz";

// Where a path in the plan's terms ("train/...", "val/..." or "Annotation/...", as the
// ilsvrc layout has them) lies in the layout ("ILSVRC2012_img_train.tar/<wnid>.tar/<name>"
// in the archives layout); other paths are returned as they are.
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

enum class TarCompression { none, gzip };

// Writes a tar with fixed metadata, so that equal members give equal bytes: pax-restricted
// (plain ustar headers for short names), regular files only, mode 0644, uid/gid 0, no
// owner names, mtime 0; gzipped with no time or name in the gzip header. Members appear
// in the order added. The tar is complete only after close(), which reports errors; the
// destructor never throws.
class TarWriter {
  public:
    explicit TarWriter(const std::filesystem::path& path,
                       TarCompression compression = TarCompression::none);
    // A tar appended to bytes, holding what the file would; `name` names it in errors.
    TarWriter(std::string name, std::vector<std::uint8_t>& bytes);
    ~TarWriter();
    TarWriter(const TarWriter&) = delete;
    TarWriter& operator=(const TarWriter&) = delete;

    void add(const std::string& name, std::span<const std::uint8_t> bytes);
    // Flushes the end-of-archive blocks and closes; throws Error naming the tar.
    void close();

  private:
    // Frees the archive and throws Error naming the tar and libarchive's message.
    [[noreturn]] void fail_to_open();

    std::string name_;
    archive* archive_;
};

}  // namespace synshard::synth
