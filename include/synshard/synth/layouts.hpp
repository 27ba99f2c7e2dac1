#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "synshard/synth/plan.hpp"

struct archive;  // libarchive

namespace synshard::synth {

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
