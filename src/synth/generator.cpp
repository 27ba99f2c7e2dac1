#include "synshard/synth/generator.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "synshard/image/jpeg_encoder.hpp"
#include "synshard/synth/jpeg_quirks.hpp"
#include "synshard/synth/layouts.hpp"
#include "synshard/synth/photo.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::synth {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

constexpr const char* kMarkerFile = "synth.json";

bool is_synth_corpus(const fs::path& directory) {
    return fs::is_regular_file(directory / kMarkerFile);
}

bool is_empty_directory(const fs::path& directory) {
    return fs::is_directory(directory) && fs::is_empty(directory);
}

// A web server's error page saved under an image name, as crawled corpora hold.
constexpr std::string_view kNotAnImage =
    "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
    "<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body>"
    "</html>\n";

// A Finder .DS_Store: the "Bud1" buddy-allocator header, then zeros, at its usual size.
Bytes ds_store_bytes() {
    Bytes bytes(6148, 0);
    const std::uint8_t header[] = {0, 0, 0, 1, 'B', 'u', 'd', '1', 0, 0, 0x10, 0};
    std::copy(std::begin(header), std::end(header), bytes.begin());
    return bytes;
}

std::span<const std::uint8_t> pixels_of(const cv::Mat& image) {
    return {image.ptr<std::uint8_t>(), image.total() * image.elemSize()};
}

// Adobe CMYK as libjpeg stores it: inverted, so R = C * K / 255 on decode.
cv::Mat inverted_cmyk(const cv::Mat& rgb) {
    cv::Mat cmyk(rgb.size(), CV_8UC4);
    for (int y = 0; y < rgb.rows; ++y) {
        const auto* in = rgb.ptr<cv::Vec3b>(y);
        auto* out = cmyk.ptr<cv::Vec4b>(y);
        for (int x = 0; x < rgb.cols; ++x) {
            const int k = std::max({in[x][0], in[x][1], in[x][2]});
            for (int c = 0; c < 3; ++c) {
                out[x][c] = static_cast<std::uint8_t>(k == 0 ? 0 : (in[x][c] * 255 + k / 2) / k);
            }
            out[x][3] = static_cast<std::uint8_t>(k);
        }
    }
    return cmyk;
}

// Turns planned files into bytes.
class FileMaker {
  public:
    explicit FileMaker(const SynthOptions& options) : options_(options) {}

    Bytes train_file(const TrainFile& file) {
        const auto photo = [&] { return render_photo(file.photo, options_.seed); };
        switch (file.kind) {
            case FileKind::jpeg:
                return encode(photo(), image::PixelLayout::rgb, false);
            case FileKind::grayscale_jpeg: {
                cv::Mat gray;
                cv::cvtColor(photo(), gray, cv::COLOR_RGB2GRAY);
                return encode(gray, image::PixelLayout::gray, false);
            }
            case FileKind::cmyk_jpeg:
                return encode(inverted_cmyk(photo()), image::PixelLayout::cmyk, false);
            case FileKind::png: {
                cv::Mat bgr;
                cv::cvtColor(photo(), bgr, cv::COLOR_RGB2BGR);
                Bytes bytes;
                if (!cv::imencode(".png", bgr, bytes)) throw Error("PNG encode failed");
                return bytes;
            }
            case FileKind::exif_rotated:
                return with_exif_orientation(encode(photo(), image::PixelLayout::rgb, false), 6);
            case FileKind::progressive_jpeg:
                return encode(photo(), image::PixelLayout::rgb, true);
            case FileKind::truncated_jpeg:
                return truncated_jpeg(encode(photo(), image::PixelLayout::rgb, false));
            case FileKind::corrupt_jpeg:
                return corrupt_jpeg(encode(photo(), image::PixelLayout::rgb, false),
                                    keyed_hash(options_.seed, "corrupt/" + file.name));
            case FileKind::huge_header_jpeg:
                return with_sof_dimensions(encode(photo(), image::PixelLayout::rgb, false), 40000,
                                           40000);
            case FileKind::empty:
                return {};
            case FileKind::text:
                return Bytes(kNotAnImage.begin(), kNotAnImage.end());
            case FileKind::ds_store:
                return ds_store_bytes();
        }
        throw Error("unknown planned file kind");
    }

    Bytes val_image(const ValImage& image) {
        return encode(render_photo(image.photo, options_.seed), image::PixelLayout::rgb, false);
    }

  private:
    Bytes encode(const cv::Mat& pixels, image::PixelLayout layout, bool progressive) {
        image::JpegEncodeSettings settings;
        settings.quality = options_.quality;
        settings.progressive = progressive;
        return encoder_.encode(pixels_of(pixels), pixels.cols, pixels.rows, layout, settings);
    }

    const SynthOptions& options_;
    image::JpegEncoder encoder_;
};

// Writes plain files under the staging directory and keeps the totals. Durability comes
// from one syncfs() before the directory is published, not from a sync per file.
class CorpusWriter {
  public:
    explicit CorpusWriter(fs::path root) : root_(std::move(root)) {}

    const fs::path& root() const { return root_; }

    void write(const std::string& relative, std::span<const std::uint8_t> bytes) {
        const fs::path path = root_ / relative;
        std::ofstream stream(path, std::ios::binary | std::ios::trunc);
        stream.write(reinterpret_cast<const char*>(bytes.data()),
                     static_cast<std::streamsize>(bytes.size()));
        stream.close();
        if (!stream) throw_system_error("writing " + path.string(), errno);
        count(bytes.size());
    }

    void write(const std::string& relative, std::string_view text) {
        write(relative, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    }

    void count(std::uint64_t bytes) {
        ++files_;
        bytes_ += bytes;
    }

    std::int64_t files() const { return files_; }
    std::uint64_t bytes() const { return bytes_; }

  private:
    fs::path root_;
    std::int64_t files_ = 0;
    std::uint64_t bytes_ = 0;
};

// An image's annotation as ImageNet's XMLs have it, each of its photo's boxes labelled
// with the image's class (a copy of another class's photo takes its own folder's class).
VocAnnotation clean_annotation(std::string folder, const std::string& wnid, const std::string& name,
                               const PhotoSpec& photo) {
    VocAnnotation annotation;
    annotation.folder = std::move(folder);
    annotation.filename = file_stem(name);
    annotation.size = photo.size;
    for (const VocBox& box : photo.boxes) {
        annotation.objects.push_back(
            {wnid, double(box.xmin), double(box.ymin), double(box.xmax), double(box.ymax)});
    }
    return annotation;
}

VocAnnotation annotation_for(const ClassPlan& class_plan, const TrainFile& file) {
    const std::string wnid(class_plan.synset.wnid);
    VocAnnotation annotation = clean_annotation(wnid, wnid, file.name, file.photo);
    VocObject& first = annotation.objects.front();
    switch (file.noise) {
        case AnnotationNoise::none:
            break;
        case AnnotationNoise::box_outside_image:
            first.xmax = annotation.size.width + 25;
            first.ymax = annotation.size.height + 10;
            break;
        case AnnotationNoise::min_greater_than_max:
            std::swap(first.xmin, first.xmax);
            break;
        case AnnotationNoise::float_coordinates:
            first.xmin += 0.4;
            first.ymin += 0.6;
            first.xmax -= 0.3;
            first.ymax -= 0.5;
            break;
        case AnnotationNoise::class_name_instead_of_wnid: {
            const std::string_view words = class_plan.synset.words;
            first.name = std::string(words.substr(0, words.find(',')));
            break;
        }
        case AnnotationNoise::filename_placeholder:
            annotation.filename = "%s";
            break;
    }
    return annotation;
}

// Real solution files are not sorted by image; a keyed shuffle keeps that trap.
void shuffle_rows(std::vector<LocRow>& rows, std::uint64_t seed) {
    std::vector<std::pair<std::uint64_t, LocRow>> keyed;
    keyed.reserve(rows.size());
    for (auto& row : rows)
        keyed.emplace_back(keyed_hash(seed, "csv/" + row.image_id), std::move(row));
    std::sort(keyed.begin(), keyed.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    rows.clear();
    for (auto& [key, row] : keyed) rows.push_back(std::move(row));
}

std::string synth_json(const SynthOptions& options, const CorpusPlan& plan) {
    nlohmann::ordered_json json;
    json["generator"] = "synshard synth";
    json["layout"] = to_string(options.layout);
    json["seed"] = options.seed;
    json["num_classes"] = options.num_classes;
    json["per_class"] = options.per_class;
    json["val_per_class"] = options.val_per_class;
    json["quality"] = options.quality;
    json["large_fraction"] = options.large_fraction;
    json["image_size"] =
        options.image_size
            ? nlohmann::ordered_json(std::to_string(options.image_size->width) + "x" +
                                     std::to_string(options.image_size->height))
            : nlohmann::ordered_json();
    json["quirks"] = options.quirks;
    auto& classes = json["classes"] = nlohmann::ordered_json::array();
    for (const auto& class_plan : plan.classes) {
        classes.push_back(std::string(class_plan.synset.wnid));
    }
    return json.dump(2) + "\n";
}

std::string quirks_json(const CorpusPlan& plan, const LayoutFolders& folders) {
    nlohmann::ordered_json json = nlohmann::ordered_json::object();
    for (const auto& quirk : plan.quirks) {
        auto& entry = json[layout_path(folders, quirk.path)];
        entry["quirk"] = quirk.quirk;
        entry["expected_reason"] =
            quirk.expected_reason ? std::string(to_string(*quirk.expected_reason)) : "none";
        if (!quirk.same_as.empty()) entry["same_as"] = layout_path(folders, quirk.same_as);
    }
    return json.dump(2) + "\n";
}

void write_train(const ClassPlan& class_plan, const LayoutFolders& folders, FileMaker& maker,
                 CorpusWriter& writer, std::vector<LocRow>& train_rows, SynthSummary& summary) {
    const std::string wnid(class_plan.synset.wnid);
    fs::create_directories(writer.root() / folders.train / wnid);
    const fs::path tar_path = writer.root() / folders.train_tars / (wnid + ".tar");
    std::optional<TarWriter> tar;
    if (!folders.train_tars.empty()) tar.emplace(tar_path);
    for (const TrainFile& file : class_plan.files) {
        const Bytes bytes = maker.train_file(file);
        writer.write(layout_path(folders, train_path(class_plan, file)), bytes);
        if (tar) tar->add(file.name, bytes);
        if (file.kind != FileKind::ds_store) ++summary.train_images;
        if (!file.annotated) continue;
        fs::create_directories(writer.root() / folders.train_boxes / wnid);
        writer.write(folders.train_boxes + "/" + wnid + "/" + file_stem(file.name) + ".xml",
                     voc_annotation_xml(annotation_for(class_plan, file), file.xml_style));
        train_rows.push_back({file_stem(file.name), wnid, file.photo.boxes});
    }
    if (!tar) return;
    tar->close();
    writer.count(fs::file_size(tar_path));
}

void sync_filesystem_of(const fs::path& directory) {
    const UniqueFd fd = open_checked(directory, O_RDONLY | O_DIRECTORY);
    if (::syncfs(fd.get()) != 0) throw_system_error("syncing " + directory.string(), errno);
}

// What synth writes at the top of a corpus, in any layout; the folders are wholly its own.
constexpr std::array<const char*, 5> kTopFiles{"synth.json", "quirks.json",
                                               "LOC_train_solution.csv", "LOC_val_solution.csv",
                                               "LOC_synset_mapping.txt"};
constexpr std::array<const char*, 5> kFolders{"train", "train_tars", "val", "Annotation", "ILSVRC"};

// The first entry of a synth corpus that synth did not write (a user's file, or a
// conversion's output put beside the corpus), if any.
std::optional<fs::path> first_foreign_entry(const fs::path& directory) {
    for (const auto& entry : fs::directory_iterator(directory)) {
        const std::string name = entry.path().filename().string();
        const auto is = [&](const auto& names) {
            return std::find(names.begin(), names.end(), name) != names.end();
        };
        const auto type = entry.symlink_status().type();
        if (!(is(kTopFiles) && type == fs::file_type::regular) &&
            !(is(kFolders) && type == fs::file_type::directory)) {
            return entry.path();
        }
    }
    return std::nullopt;
}

// Removes a directory only if it is empty or holds only what synth writes.
void remove_own_directory(const fs::path& directory) {
    if (!fs::exists(directory)) return;
    check_output(directory);
    for (const char* folder : kFolders) fs::remove_all(directory / folder);
    for (const char* file : kTopFiles) fs::remove(directory / file);
    fs::remove(directory);
}

}  // namespace

void check_output(const fs::path& output) {
    if (!fs::exists(output)) return;
    if (!fs::is_directory(output)) {
        throw UsageError("--output " + output.string() + " exists and is not a directory");
    }
    if (!is_synth_corpus(output) && !is_empty_directory(output)) {
        throw UsageError("--output " + output.string() +
                         " is not empty and not a synth corpus (no " + kMarkerFile +
                         "); remove it or choose another directory");
    }
    if (const auto foreign = first_foreign_entry(output)) {
        throw UsageError("--output " + output.string() + " holds " + foreign->string() +
                         ", which synth did not write; move it out or choose another directory");
    }
}

SynthSummary generate_corpus(const SynthOptions& options) {
    fs::path output = options.output.lexically_normal();
    if (!output.has_filename()) output = output.parent_path();  // "corpus/" names "corpus"
    check_output(output);
    const fs::path staging = temporary_path_for(output);
    remove_own_directory(staging);
    const CorpusPlan plan = plan_corpus(options);

    fs::create_directories(staging);  // and output's parents, so the rename stays local
    CorpusWriter writer(staging);
    // The marker first, so that a crash leaves a staging directory the next run may remove.
    writer.write(kMarkerFile, synth_json(options, plan));
    const LayoutFolders folders = layout_folders(options.layout);
    for (const std::string& folder :
         {folders.train, folders.val, folders.train_boxes, folders.val_boxes, folders.train_tars}) {
        if (!folder.empty()) fs::create_directories(staging / folder);
    }

    SynthSummary summary;
    summary.classes = static_cast<int>(plan.classes.size());
    FileMaker maker(options);
    std::vector<LocRow> train_rows;
    for (const auto& class_plan : plan.classes) {
        write_train(class_plan, folders, maker, writer, train_rows, summary);
    }
    std::vector<LocRow> val_rows;
    for (const auto& image : plan.val) {
        writer.write(layout_path(folders, "val/" + image.name), maker.val_image(image));
        if (!folders.val_boxes.empty()) {
            writer.write(
                folders.val_boxes + "/" + file_stem(image.name) + ".xml",
                voc_annotation_xml(clean_annotation("val", image.wnid, image.name, image.photo),
                                   XmlStyle::pretty));
        }
        val_rows.push_back({file_stem(image.name), image.wnid, image.photo.boxes});
        ++summary.val_images;
    }
    shuffle_rows(train_rows, options.seed);
    shuffle_rows(val_rows, options.seed);
    writer.write("LOC_train_solution.csv", loc_solution_csv(train_rows));
    writer.write("LOC_val_solution.csv", loc_solution_csv(val_rows));
    writer.write("LOC_synset_mapping.txt", synset_mapping_text(plan.classes));
    if (options.quirks) writer.write("quirks.json", quirks_json(plan, folders));

    sync_filesystem_of(staging);
    remove_own_directory(output);
    fs::rename(staging, output);
    fsync_directory(output.parent_path());
    summary.files = writer.files();
    summary.bytes = writer.bytes();
    return summary;
}

}  // namespace synshard::synth
