#include "synshard/corpus/boxes.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <pugixml.hpp>
#include <utility>

#include "synshard/corpus/archive.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/text_lines.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::corpus {
namespace {

namespace fs = std::filesystem;

std::optional<double> parse_number(std::string_view text) {
    const std::string copy(text);
    const char* begin = copy.c_str();
    while (*begin == ' ' || *begin == '\t' || *begin == '\n' || *begin == '\r') ++begin;
    char* end = nullptr;
    const double value = std::strtod(begin, &end);
    if (end == begin || !std::isfinite(value)) return std::nullopt;
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') ++end;
    if (*end != '\0') return std::nullopt;
    return value;
}

std::string stem_of(std::string_view name) {
    const auto slash = name.rfind('/');
    if (slash != std::string_view::npos) name = name.substr(slash + 1);
    const auto dot = name.rfind('.');
    return std::string(dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot));
}

std::string text_of(const pugi::xml_node& node) {
    std::string text = node.child_value();
    const auto first = text.find_first_not_of(" \t\r\n");
    const auto last = text.find_last_not_of(" \t\r\n");
    return first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
}

int size_field(const pugi::xml_node& size, const char* name) {
    const auto value = parse_number(size.child_value(name));
    return value && *value > 0 && *value < 1e9 ? static_cast<int>(*value) : 0;
}

// What a folder source's files were when one prefix was read from it (BoxLoader::Read).
class FolderRead {
  public:
    explicit FolderRead(const fs::path& root) : root_(root) {}
    void add(const fs::path& file, std::string_view content) {
        hasher_.update(file.lexically_relative(root_).string() + "\t" + std::string(content) +
                       "\n");
    }
    std::string finish() { return to_hex(hasher_.finish()); }

  private:
    fs::path root_;
    Sha256 hasher_;
};

// Records one annotation, counting a name that is not a wnid.
void add_document(BoxMap& boxes, const std::string& prefix, const std::string& stem,
                  std::string_view xml, BoxOrigin origin, BoxStats& stats) {
    auto parsed = parse_voc_xml(xml, stem, stats, origin);
    if (!parsed) return;
    auto& list = boxes[prefix + "/" + stem];
    list.insert(list.end(), parsed->begin(), parsed->end());
}

void load_xml_folder(const fs::path& folder, const std::string& prefix, BoxMap& boxes,
                     BoxOrigin origin, BoxStats& stats, FolderRead& read) {
    std::error_code error;
    if (!fs::is_directory(folder, error)) return;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder)) {
        if (entry.path().extension() == ".xml" && entry.is_regular_file(error)) {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        ++stats.files;
        std::vector<std::uint8_t> bytes;
        try {
            bytes = read_file(file);
        } catch (const Error&) {
            ++stats.unparseable;
            read.add(file, "unreadable");
            continue;
        }
        read.add(file, content_digest(bytes));
        add_document(boxes, prefix, stem_of(file.filename().string()), as_text(bytes), origin,
                     stats);
    }
}

void load_xml_tar(const fs::path& tar, const std::string& prefix, BoxMap& boxes, BoxOrigin origin,
                  BoxStats& stats, FolderRead& read) {
    constexpr std::int64_t kMaxXmlBytes = std::int64_t{16} * 1024 * 1024;
    try {
        ArchiveReader reader(tar);
        while (auto header = reader.next()) {
            if (header->type != MemberHeader::Type::regular || !header->path.ends_with(".xml") ||
                is_unsafe_member_path(header->path)) {
                continue;
            }
            ++stats.files;
            if (header->declared_size > kMaxXmlBytes) {
                ++stats.unparseable;
                read.add(tar / header->path, "too-large");
                continue;
            }
            const auto bytes = reader.read_data(header->declared_size);
            read.add(tar / header->path, content_digest(bytes));
            add_document(
                boxes, prefix, stem_of(header->path),
                std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), origin,
                stats);
        }
    } catch (const ArchiveError&) {
        ++stats.unparseable;
        read.add(tar, "archive-error");
    }
}

// The prefix of an image id or annotation stem: "nXXXXXXXX_..." belongs to that wnid,
// anything else to "val".
std::string prefix_of_image_id(std::string_view image_id) {
    if (image_id.size() > 10 && image_id[9] == '_' && wordnet::is_wnid(image_id.substr(0, 9))) {
        return std::string(image_id.substr(0, 9));
    }
    return "val";
}

// Returns the content_digest of the file's bytes.
std::string load_csv(const fs::path& file, const std::set<std::string>& prefixes,
                     std::unordered_map<std::string, BoxMap>& boxes_by_prefix, BoxOrigin origin,
                     BoxStats& stats) {
    const auto bytes = read_file(file);
    const std::string name = file.string();
    TextRows rows(as_text(bytes));
    while (const auto row = rows.next()) {
        // Every row is parsed, so that which prefixes a rank loads never decides whether
        // the file is accepted.
        const LocCsvRow parsed = parse_loc_csv_row(*row, name);
        const std::string prefix = prefix_of_image_id(parsed.image_id);
        if (prefixes.count(prefix) == 0) continue;
        ++stats.files;
        auto& list = boxes_by_prefix[prefix][prefix + "/" + std::string(parsed.image_id)];
        for (const auto& [class_name, corners] : parsed.boxes) {
            if (!wordnet::is_wnid(class_name)) ++stats.class_names;
            const auto [xmin, ymin, xmax, ymax] = corners;
            if (auto box = continuous_box(xmin, ymin, xmax, ymax, 0, 0, origin, stats)) {
                list.push_back({*box, std::string(class_name)});
            }
        }
    }
    return content_digest(bytes);
}

bool is_box_archive(const fs::path& file) {
    const std::string name = file.filename().string();
    return name.ends_with(".tar") || name.ends_with(".tar.gz") || name.ends_with(".tgz");
}

// The prefix an archive member annotates: its folder's name when that is a wnid or "val"
// (ILSVRC2012_bbox_train_v2's "nXXXXXXXX/<stem>.xml", bbox_val_v3's "val/<stem>.xml"),
// else its stem's (a flat archive).
std::string member_prefix(const std::string& member) {
    const fs::path path(member);
    const std::string folder = path.parent_path().filename().string();
    if (folder == "val" || wordnet::is_wnid(folder)) return folder;
    return prefix_of_image_id(stem_of(member));
}

// Streams a tar (gzipped or not) of XML annotations once, keeping the boxes of the asked
// prefixes and, per prefix, the digest of what it read (FolderRead, member paths
// relative to the archive). Members of other prefixes are skipped unread, so a rank holds
// only its own classes' boxes. An archive that breaks off is an Error: boxes silently
// missing from a download cut short would look like images without boxes.
void load_xml_archive(const BoxSource& source, const std::set<std::string>& prefixes,
                      std::unordered_map<std::string, BoxMap>& boxes_by_prefix,
                      std::unordered_map<std::string, std::string>& digests, BoxOrigin origin,
                      BoxStats& stats) {
    constexpr std::int64_t kMaxXmlBytes = std::int64_t{16} * 1024 * 1024;
    std::unordered_map<std::string, FolderRead> reads;
    try {
        ArchiveReader reader(source.path);
        while (auto header = reader.next()) {
            if (header->type != MemberHeader::Type::regular || !header->path.ends_with(".xml") ||
                is_unsafe_member_path(header->path)) {
                continue;
            }
            const std::string prefix = member_prefix(header->path);
            if (prefixes.count(prefix) == 0) continue;
            FolderRead& read = reads.try_emplace(prefix, source.path).first->second;
            ++stats.files;
            if (header->declared_size > kMaxXmlBytes) {
                ++stats.unparseable;
                read.add(source.path / header->path, "too-large");
                continue;
            }
            const auto bytes = reader.read_data(header->declared_size);
            read.add(source.path / header->path, content_digest(bytes));
            add_document(boxes_by_prefix[prefix], prefix, stem_of(header->path), as_text(bytes),
                         origin, stats);
        }
    } catch (const ArchiveError& error) {
        throw Error(source.option + " " + source.path.string() + ": " + error.what());
    }
    for (auto& [prefix, read] : reads) digests.emplace(prefix, read.finish());
}

// Returns the digest of what it read (BoxLoader::Read).
std::string load_folder(const fs::path& folder, const std::string& prefix, BoxMap& boxes,
                        BoxOrigin origin, BoxStats& stats) {
    FolderRead read(folder);
    if (prefix == "val") {
        load_xml_folder(folder, prefix, boxes, origin, stats, read);
        load_xml_folder(folder / "val", prefix, boxes, origin, stats, read);
        return read.finish();
    }
    load_xml_folder(folder / prefix, prefix, boxes, origin, stats, read);
    std::error_code error;
    for (const char* suffix : {".tar", ".tar.gz", ".tgz"}) {
        const fs::path tar = folder / (prefix + suffix);
        if (fs::is_regular_file(tar, error)) load_xml_tar(tar, prefix, boxes, origin, stats, read);
    }
    return read.finish();
}

}  // namespace

BoxStats& BoxStats::operator+=(const BoxStats& other) {
    files += other.files;
    unparseable += other.unparseable;
    boxes += other.boxes;
    fixed += other.fixed;
    dropped += other.dropped;
    class_names += other.class_names;
    placeholders += other.placeholders;
    unmatched += other.unmatched;
    given += other.given;
    return *this;
}

std::optional<image::Box> continuous_box(double xmin, double ymin, double xmax, double ymax,
                                         int width, int height, BoxOrigin origin, BoxStats& stats) {
    // The first covered pixel's top-left corner, the last one's bottom-right corner.
    const double first = static_cast<int>(origin);
    const double raw[4] = {xmin - first, ymin - first, xmax + 1 - first, ymax + 1 - first};
    double clamped[4] = {std::max(raw[0], 0.0), std::max(raw[1], 0.0), raw[2], raw[3]};
    if (width > 0) {
        clamped[0] = std::min(clamped[0], double(width));
        clamped[2] = std::clamp(clamped[2], 0.0, double(width));
    }
    if (height > 0) {
        clamped[1] = std::min(clamped[1], double(height));
        clamped[3] = std::clamp(clamped[3], 0.0, double(height));
    }
    if (!(clamped[0] < clamped[2]) || !(clamped[1] < clamped[3])) {
        ++stats.dropped;
        return std::nullopt;
    }
    if (!std::equal(std::begin(raw), std::end(raw), std::begin(clamped))) ++stats.fixed;
    ++stats.boxes;
    return image::Box{static_cast<float>(clamped[0]), static_cast<float>(clamped[1]),
                      static_cast<float>(clamped[2]), static_cast<float>(clamped[3])};
}

std::optional<std::vector<AnnotatedBox>> parse_voc_xml(std::string_view xml, std::string_view stem,
                                                       BoxStats& stats, BoxOrigin origin) {
    pugi::xml_document document;
    const auto result = document.load_buffer(xml.data(), xml.size());
    const pugi::xml_node annotation = document.child("annotation");
    if (!result || !annotation) {
        ++stats.unparseable;
        return std::nullopt;
    }
    const std::string filename = text_of(annotation.child("filename"));
    if (!filename.empty() && stem_of(filename) != stem) ++stats.placeholders;
    const pugi::xml_node size = annotation.child("size");
    const int width = size_field(size, "width");
    const int height = size_field(size, "height");
    std::vector<AnnotatedBox> boxes;
    for (const auto& object : annotation.children("object")) {
        const std::string name = text_of(object.child("name"));
        const pugi::xml_node bndbox = object.child("bndbox");
        std::array<std::optional<double>, 4> v;
        const char* fields[4] = {"xmin", "ymin", "xmax", "ymax"};
        for (std::size_t c = 0; c < 4; ++c) v[c] = parse_number(bndbox.child_value(fields[c]));
        if (!v[0] || !v[1] || !v[2] || !v[3]) {
            ++stats.dropped;
            continue;
        }
        if (!wordnet::is_wnid(name)) ++stats.class_names;
        if (auto box = continuous_box(*v[0], *v[1], *v[2], *v[3], width, height, origin, stats)) {
            boxes.push_back({*box, name});
        }
    }
    return boxes;
}

LocCsvRow parse_loc_csv_row(const TextLine& row, std::string_view file) {
    const auto malformed = [&](const std::string& what) {
        return UsageError(std::string(file) + ":" + std::to_string(row.number) + ": " + what +
                          " in '" + std::string(row.text) +
                          "' (expected 'ImageId,wnid xmin ymin xmax ymax ...')");
    };
    TextFields fields(row.text);
    LocCsvRow parsed;
    parsed.image_id = fields.next();
    if (parsed.image_id.empty()) throw malformed("no image id");
    while (!fields.at_end()) {
        LocCsvRow::Box& box = parsed.boxes.emplace_back();
        box.name = fields.next();
        if (box.name.empty()) throw malformed("an empty field");
        for (double& corner : box.corners) {
            if (fields.at_end()) throw malformed("a box without four corners");
            const auto number = parse_number(fields.next());
            if (!number) throw malformed("a corner that is no number");
            corner = *number;
        }
    }
    return parsed;
}

std::string box_key(std::string_view item_key) {
    const auto slash = item_key.find('/');
    const std::string_view prefix = item_key.substr(0, slash);
    return std::string(prefix) + "/" + stem_of(item_key.substr(slash + 1));
}

std::vector<BoxSource> box_sources(const std::vector<fs::path>& boxes,
                                   const std::optional<fs::path>& val_labels) {
    std::vector<BoxSource> sources;
    std::set<fs::path> named;
    const auto add = [&](BoxSource source) {
        if (named.insert(canonical_path(source.path)).second) sources.push_back(std::move(source));
    };
    for (const auto& path : boxes) add({"--boxes", path, false});
    if (val_labels) add({"--val-labels", *val_labels, true});
    return sources;
}

BoxLoader::BoxLoader(std::vector<BoxSource> sources, const std::set<std::string>& prefixes,
                     BoxOrigin origin)
    : sources_(std::move(sources)), origin_(origin), stats_(sources_.size()) {
    std::set<std::string> val_prefix;
    if (prefixes.count("val") != 0) val_prefix.insert("val");
    for (std::size_t i = 0; i < sources_.size(); ++i) {
        const BoxSource& source = sources_[i];
        std::error_code error;
        const std::set<std::string>& asked = source.val_only ? val_prefix : prefixes;
        if (fs::is_regular_file(source.path, error) && is_box_archive(source.path)) {
            load_xml_archive(source, asked, preloaded_[i], archive_reads_[i], origin_, stats_[i]);
        } else if (fs::is_regular_file(source.path, error)) {
            read_.push_back(
                {i, "", load_csv(source.path, asked, preloaded_[i], origin_, stats_[i])});
        } else if (!fs::is_directory(source.path, error)) {
            throw Error(source.option + " " + source.path.string() +
                        " is neither a CSV file, a tar of XML files nor a folder");
        }
    }
}

ImageBoxMap BoxLoader::take(const std::string& prefix) {
    ImageBoxMap all;
    for (std::size_t i = 0; i < sources_.size(); ++i) {
        if (sources_[i].val_only && prefix != "val") continue;
        BoxMap source_boxes;
        if (const auto preloaded = preloaded_.find(i); preloaded != preloaded_.end()) {
            if (auto rows = preloaded->second.extract(prefix)) {
                source_boxes = std::move(rows.mapped());
            }
            if (const auto reads = archive_reads_.find(i); reads != archive_reads_.end()) {
                if (auto digest = reads->second.extract(prefix)) {
                    read_.push_back({i, prefix, std::move(digest.mapped())});
                }
            }
        } else {
            read_.push_back(
                {i, prefix,
                 load_folder(sources_[i].path, prefix, source_boxes, origin_, stats_[i])});
        }
        for (auto& [key, boxes] : source_boxes)
            all.try_emplace(key, ImageBoxes{i, std::move(boxes)});
    }
    return all;
}

}  // namespace synshard::corpus
