#include "synshard/synth/layouts.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <pugixml.hpp>
#include <sstream>
#include <utility>

#include "synshard/util/error.hpp"

namespace synshard::synth {
namespace {

constexpr std::array<std::pair<Layout, std::string_view>, 3> kLayoutNames{{
    {Layout::ilsvrc, "ilsvrc"},
    {Layout::kaggle, "kaggle"},
    {Layout::archives, "archives"},
}};

std::string coordinate_text(double value) {
    if (value == std::floor(value)) return std::to_string(static_cast<long long>(value));
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", value);
    return text;
}

void add_text(pugi::xml_node parent, const char* name, const std::string& text) {
    parent.append_child(name).text().set(text.c_str());
}

// libarchive's write callback for a tar in memory.
la_ssize_t append_to(archive*, void* bytes, const void* data, size_t size) {
    auto& out = *static_cast<std::vector<std::uint8_t>*>(bytes);
    const auto* begin = static_cast<const std::uint8_t*>(data);
    out.insert(out.end(), begin, begin + size);
    return static_cast<la_ssize_t>(size);
}

}  // namespace

std::string_view to_string(Layout layout) {
    return kLayoutNames[static_cast<std::size_t>(layout)].second;
}

Layout parse_layout(std::string_view name) {
    std::string names;
    for (const auto& [layout, layout_name] : kLayoutNames) {
        if (layout_name == name) return layout;
        names += (names.empty() ? "" : ", ") + std::string(layout_name);
    }
    throw UsageError("--layout must be one of " + names + ", not '" + std::string(name) + "'");
}

LayoutFolders layout_folders(Layout layout) {
    switch (layout) {
        case Layout::ilsvrc:
            return {"train", "val", "Annotation", "", "train_tars"};
        case Layout::kaggle:
            return {"ILSVRC/Data/CLS-LOC/train", "ILSVRC/Data/CLS-LOC/val",
                    "ILSVRC/Annotations/CLS-LOC/train", "ILSVRC/Annotations/CLS-LOC/val", ""};
        case Layout::archives:
            return {kTrainArchive,
                    kValArchive,
                    kTrainBoxesArchive,
                    std::string(kValBoxesArchive) + "/val",
                    "",
                    true};
    }
    throw Error("unknown layout");
}

std::string layout_path(const LayoutFolders& folders, std::string_view plan_path) {
    const auto slash = std::min(plan_path.find('/'), plan_path.size());
    const std::string_view top = plan_path.substr(0, slash);
    std::string rest(plan_path.substr(slash));
    if (top == "train" && folders.classes_are_tars) {
        const auto name = rest.find('/', 1);
        if (name != std::string::npos) rest.insert(name, ".tar");
    }
    if (top == "train") return folders.train + rest;
    if (top == "val") return folders.val + rest;
    if (top == "Annotation") return folders.train_boxes + rest;
    return std::string(plan_path);
}

std::string voc_annotation_xml(const VocAnnotation& annotation, XmlStyle style) {
    pugi::xml_document document;
    auto root = document.append_child("annotation");
    add_text(root, "folder", annotation.folder);
    add_text(root, "filename", annotation.filename);
    add_text(root.append_child("source"), "database", "ILSVRC_2012");
    auto size = root.append_child("size");
    add_text(size, "width", std::to_string(annotation.size.width));
    add_text(size, "height", std::to_string(annotation.size.height));
    add_text(size, "depth", "3");
    add_text(root, "segmented", "0");
    for (const auto& object : annotation.objects) {
        auto node = root.append_child("object");
        add_text(node, "name", object.name);
        add_text(node, "pose", "Unspecified");
        add_text(node, "truncated", "0");
        add_text(node, "difficult", "0");
        auto box = node.append_child("bndbox");
        add_text(box, "xmin", coordinate_text(object.xmin));
        add_text(box, "ymin", coordinate_text(object.ymin));
        add_text(box, "xmax", coordinate_text(object.xmax));
        add_text(box, "ymax", coordinate_text(object.ymax));
    }
    std::ostringstream text;
    const unsigned flags = pugi::format_no_declaration |
                           (style == XmlStyle::pretty ? pugi::format_indent : pugi::format_raw);
    document.save(text, "\t", flags);
    if (style == XmlStyle::one_line) text << '\n';
    return text.str();
}

std::string loc_solution_csv(std::span<const LocRow> rows) {
    std::string text = "ImageId,PredictionString\n";
    for (const auto& row : rows) {
        text += row.image_id;
        text += ',';
        for (const auto& box : row.boxes) {
            text += row.wnid + ' ' + std::to_string(box.xmin) + ' ' + std::to_string(box.ymin) +
                    ' ' + std::to_string(box.xmax) + ' ' + std::to_string(box.ymax) + ' ';
        }
        text += '\n';
    }
    return text;
}

std::string synset_mapping_text(std::span<const ClassPlan> classes) {
    std::string text;
    for (const auto& class_plan : classes) {
        text += class_plan.synset.wnid;
        text += ' ';
        text += class_plan.synset.words;
        text += '\n';
    }
    return text;
}

TarWriter::TarWriter(const std::filesystem::path& path, TarCompression compression)
    : name_(path.string()), archive_(archive_write_new()) {
    if (archive_ == nullptr) throw Error("libarchive: out of memory creating " + name_);
    const auto add_filter = [&] {
        if (compression == TarCompression::none) {
            return archive_write_add_filter_none(archive_) == ARCHIVE_OK;
        }
        // The header's time would make every run's bytes differ.
        return archive_write_add_filter_gzip(archive_) == ARCHIVE_OK &&
               archive_write_set_filter_option(archive_, "gzip", "timestamp", nullptr) ==
                   ARCHIVE_OK;
    };
    if (archive_write_set_format_pax_restricted(archive_) != ARCHIVE_OK || !add_filter() ||
        archive_write_open_filename(archive_, path.c_str()) != ARCHIVE_OK) {
        fail_to_open();
    }
}

TarWriter::TarWriter(std::string name, std::vector<std::uint8_t>& bytes)
    : name_(std::move(name)), archive_(archive_write_new()) {
    if (archive_ == nullptr) throw Error("libarchive: out of memory creating " + name_);
    // As archive_write_open_filename() does for a regular file: no padding to a whole
    // 10240-byte block after the end-of-archive blocks.
    if (archive_write_set_format_pax_restricted(archive_) != ARCHIVE_OK ||
        archive_write_add_filter_none(archive_) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(archive_, 1) != ARCHIVE_OK ||
        archive_write_open2(archive_, &bytes, nullptr, append_to, nullptr, nullptr) != ARCHIVE_OK) {
        fail_to_open();
    }
}

void TarWriter::fail_to_open() {
    const std::string message =
        archive_error_string(archive_) ? archive_error_string(archive_) : "unknown error";
    archive_write_free(archive_);
    archive_ = nullptr;
    throw Error("creating " + name_ + ": " + message);
}

TarWriter::~TarWriter() {
    if (archive_ != nullptr) archive_write_free(archive_);
}

void TarWriter::add(const std::string& name, std::span<const std::uint8_t> bytes) {
    const std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                              &archive_entry_free);
    if (!entry) throw Error("libarchive: out of memory writing " + name_);
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_mtime(entry.get(), 0, 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    const auto fail = [&] {
        const char* message = archive_error_string(archive_);
        return Error("writing " + name + " into " + name_ + ": " +
                     (message != nullptr ? message : "unknown error"));
    };
    if (archive_write_header(archive_, entry.get()) != ARCHIVE_OK) throw fail();
    if (!bytes.empty() && archive_write_data(archive_, bytes.data(), bytes.size()) !=
                              static_cast<la_ssize_t>(bytes.size())) {
        throw fail();
    }
}

void TarWriter::close() {
    const int status = archive_write_close(archive_);
    std::string message;
    if (status != ARCHIVE_OK) {
        const char* text = archive_error_string(archive_);
        message = text != nullptr ? text : "unknown error";
    }
    archive_write_free(archive_);
    archive_ = nullptr;
    if (status != ARCHIVE_OK) throw Error("closing " + name_ + ": " + message);
}

}  // namespace synshard::synth
