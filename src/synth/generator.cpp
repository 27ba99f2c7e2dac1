#include "synshard/synth/generator.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "synshard/image/jpeg_encoder.hpp"
#include "synshard/synth/devkit_writer.hpp"
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
// Every entry synth made in a corpus, itself included: one relative '/'-separated path a
// line, folders ending in '/'. It is all that regenerating the corpus may remove.
constexpr const char* kListFile = "synth-files.txt";

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

// Makes files and folders under the staging directory, naming each in the list before
// making it, so that a crash leaves a list that covers what exists, and keeps the totals.
// Durability comes from one syncfs() before the directory is published, not from a sync
// per file.
class CorpusWriter {
  public:
    explicit CorpusWriter(fs::path root)
        : root_(std::move(root)), list_(root_ / kListFile, std::ios::binary | std::ios::trunc) {
        list(kListFile);
    }

    const fs::path& root() const { return root_; }

    // Makes the folder and those of its parents that are missing.
    void make_folders(const std::string& relative) {
        std::string folder;
        for (const fs::path& part : fs::path(relative)) {
            folder += part.string() + "/";
            if (fs::exists(fs::symlink_status(root_ / folder))) continue;
            list(folder);
            fs::create_directory(root_ / folder);
        }
    }

    // Lists a file that another writer (a TarWriter) makes at relative; returns its path.
    fs::path claim(const std::string& relative) {
        list(relative);
        return root_ / relative;
    }

    void write(const std::string& relative, std::span<const std::uint8_t> bytes) {
        const fs::path path = claim(relative);
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

    // Closes the list; the corpus is complete.
    void finish() {
        list_.close();
        if (!list_) throw_system_error("writing " + (root_ / kListFile).string(), errno);
        count(fs::file_size(root_ / kListFile));
    }

    std::int64_t files() const { return files_; }
    std::uint64_t bytes() const { return bytes_; }

  private:
    // Flushed at once: a process that dies next has listed the entry it was making.
    void list(const std::string& relative) {
        list_ << relative << '\n' << std::flush;
        if (!list_) throw_system_error("writing " + (root_ / kListFile).string(), errno);
    }

    fs::path root_;
    std::ofstream list_;
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

// Where a corpus's images and boxes go, class by class: files in folders, or the
// official archives. The top files are the CorpusWriter's in every layout.
class CorpusSink {
  public:
    virtual ~CorpusSink() = default;
    virtual void begin_class(const std::string& wnid) = 0;
    virtual void train_image(const std::string& wnid, const std::string& name,
                             std::span<const std::uint8_t> bytes) = 0;
    virtual void train_boxes(const std::string& wnid, const std::string& stem,
                             const std::string& xml) = 0;
    virtual void end_class(const std::string& wnid) = 0;
    virtual void val_image(const std::string& name, std::span<const std::uint8_t> bytes) = 0;
    virtual void val_boxes(const std::string& stem, const std::string& xml) = 0;
    // Completes what is still open.
    virtual void finish() = 0;
};

// The ilsvrc and kaggle layouts: a file per image and box XML, and a tar per class when
// the layout has them.
class FolderSink final : public CorpusSink {
  public:
    FolderSink(CorpusWriter& writer, LayoutFolders folders)
        : writer_(writer), folders_(std::move(folders)) {
        for (const std::string& folder : {folders_.train, folders_.val, folders_.train_boxes,
                                          folders_.val_boxes, folders_.train_tars}) {
            if (!folder.empty()) writer_.make_folders(folder);
        }
    }

    void begin_class(const std::string& wnid) override {
        writer_.make_folders(folders_.train + "/" + wnid);
        if (folders_.train_tars.empty()) return;
        tar_path_ = writer_.claim(folders_.train_tars + "/" + wnid + ".tar");
        tar_.emplace(tar_path_);
    }
    void train_image(const std::string& wnid, const std::string& name,
                     std::span<const std::uint8_t> bytes) override {
        writer_.write(folders_.train + "/" + wnid + "/" + name, bytes);
        if (tar_) tar_->add(name, bytes);
    }
    void train_boxes(const std::string& wnid, const std::string& stem,
                     const std::string& xml) override {
        writer_.make_folders(folders_.train_boxes + "/" + wnid);
        writer_.write(folders_.train_boxes + "/" + wnid + "/" + stem + ".xml", xml);
    }
    void end_class(const std::string&) override {
        if (!tar_) return;
        tar_->close();
        tar_.reset();
        writer_.count(fs::file_size(tar_path_));
    }
    void val_image(const std::string& name, std::span<const std::uint8_t> bytes) override {
        writer_.write(folders_.val + "/" + name, bytes);
    }
    void val_boxes(const std::string& stem, const std::string& xml) override {
        if (!folders_.val_boxes.empty()) {
            writer_.write(folders_.val_boxes + "/" + stem + ".xml", xml);
        }
    }
    void finish() override {}

  private:
    CorpusWriter& writer_;
    LayoutFolders folders_;
    fs::path tar_path_;
    std::optional<TarWriter> tar_;
};

// The archives layout: the official downloads (layouts.hpp names them). A class's tar is
// built in memory (a class of ImageNet's is about 140 MB) and then added to the train
// tar and to its gzipped twin.
class ArchiveSink final : public CorpusSink {
  public:
    ArchiveSink(CorpusWriter& writer, const CorpusPlan& plan, std::uint64_t seed)
        : writer_(writer),
          plan_(plan),
          seed_(seed),
          train_(writer.claim(kTrainArchive)),
          gzipped_train_(writer.claim(kGzippedTrainArchive), TarCompression::gzip),
          val_(writer.claim(kValArchive)),
          train_boxes_(writer.claim(kTrainBoxesArchive), TarCompression::gzip),
          val_boxes_(writer.claim(kValBoxesArchive), TarCompression::gzip) {}

    void begin_class(const std::string& wnid) override {
        class_tar_bytes_.clear();
        class_tar_.emplace(wnid + ".tar in " + kTrainArchive, class_tar_bytes_);
    }
    void train_image(const std::string&, const std::string& name,
                     std::span<const std::uint8_t> bytes) override {
        class_tar_->add(name, bytes);
    }
    void train_boxes(const std::string& wnid, const std::string& stem,
                     const std::string& xml) override {
        train_boxes_.add(wnid + "/" + stem + ".xml", as_bytes(xml));
    }
    void end_class(const std::string& wnid) override {
        class_tar_->close();
        class_tar_.reset();
        train_.add(wnid + ".tar", class_tar_bytes_);
        gzipped_train_.add(wnid + ".tar", class_tar_bytes_);
    }
    void val_image(const std::string& name, std::span<const std::uint8_t> bytes) override {
        val_.add(name, bytes);
    }
    void val_boxes(const std::string& stem, const std::string& xml) override {
        val_boxes_.add("val/" + stem + ".xml", as_bytes(xml));
    }
    void finish() override {
        write_devkit();
        const std::pair<TarWriter*, const char*> archives[] = {
            {&train_, kTrainArchive},
            {&gzipped_train_, kGzippedTrainArchive},
            {&val_, kValArchive},
            {&train_boxes_, kTrainBoxesArchive},
            {&val_boxes_, kValBoxesArchive}};
        for (const auto& [tar, name] : archives) {
            tar->close();
            writer_.count(fs::file_size(writer_.root() / name));
        }
    }

  private:
    static std::span<const std::uint8_t> as_bytes(const std::string& text) {
        return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
    }

    void write_devkit() {
        const std::vector<int> ids = devkit_ids(plan_.classes, seed_);
        TarWriter devkit(writer_.claim(kDevkitArchive), TarCompression::gzip);
        devkit.add("ILSVRC2012_devkit_t12/data/meta.mat", devkit_meta_mat(plan_.classes, ids));
        devkit.add("ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt",
                   as_bytes(validation_ground_truth(plan_.classes, ids, plan_.val)));
        devkit.close();
        writer_.count(fs::file_size(writer_.root() / kDevkitArchive));
    }

    CorpusWriter& writer_;
    const CorpusPlan& plan_;
    std::uint64_t seed_;
    TarWriter train_;
    TarWriter gzipped_train_;
    TarWriter val_;
    TarWriter train_boxes_;
    TarWriter val_boxes_;
    Bytes class_tar_bytes_;
    std::optional<TarWriter> class_tar_;
};

void write_train(const ClassPlan& class_plan, FileMaker& maker, CorpusSink& sink,
                 std::vector<LocRow>& train_rows, SynthSummary& summary) {
    const std::string wnid(class_plan.synset.wnid);
    sink.begin_class(wnid);
    for (const TrainFile& file : class_plan.files) {
        sink.train_image(wnid, file.name, maker.train_file(file));
        if (file.kind != FileKind::ds_store) ++summary.train_images;
        if (!file.annotated) continue;
        sink.train_boxes(wnid, file_stem(file.name),
                         voc_annotation_xml(annotation_for(class_plan, file), file.xml_style));
        train_rows.push_back({file_stem(file.name), wnid, file.photo.boxes});
    }
    sink.end_class(wnid);
}

void sync_filesystem_of(const fs::path& directory) {
    const UniqueFd fd = open_checked(directory, O_RDONLY | O_DIRECTORY);
    if (::syncfs(fd.get()) != 0) throw_system_error("syncing " + directory.string(), errno);
}

std::set<std::string> read_list(const fs::path& directory) {
    const Bytes bytes = read_file(directory / kListFile);
    std::set<std::string> listed;
    std::istringstream lines(std::string(bytes.begin(), bytes.end()));
    for (std::string line; std::getline(lines, line);) listed.insert(line);
    return listed;
}

// What synth may remove of a directory it may replace: every entry in it, none of them
// followed if a symbolic link, named as its list names them (children sort after their
// folder: "a/" < "a/b"). Throws UsageError, beginning with `what`, unless the list names
// each entry as what it is; an empty directory has nothing to remove.
std::set<std::string> owned_entries(const fs::path& directory, const std::string& what) {
    if (!fs::is_directory(directory)) throw UsageError(what + " exists and is not a directory");
    if (fs::is_empty(directory)) return {};
    if (!fs::is_regular_file(fs::symlink_status(directory / kListFile))) {
        throw UsageError(what + " is not empty and has no " + kListFile +
                         " naming what synth wrote in it (it is not a synth corpus, or an "
                         "older synth wrote it); remove it yourself or choose another directory");
    }
    const std::set<std::string> listed = read_list(directory);
    std::set<std::string> entries;
    std::optional<std::string> first_foreign;
    for (const auto& entry : fs::recursive_directory_iterator(directory)) {
        const std::string relative = entry.path().lexically_relative(directory).generic_string();
        const bool folder = entry.symlink_status().type() == fs::file_type::directory;
        const std::string name = folder ? relative + "/" : relative;
        if (listed.count(name) != 0) {
            entries.insert(name);
        } else if (!first_foreign || relative < *first_foreign) {
            first_foreign = relative;
        }
    }
    if (first_foreign) {
        throw UsageError(what + " holds " + (directory / *first_foreign).string() +
                         ", which synth did not write; move it out or choose another directory");
    }
    return entries;
}

// Removes a directory synth wrote, entry by entry, children before their folder and the
// list last (a crash midway leaves a list that still covers what is left); never a
// folder that is not empty by then.
void remove_own_directory(const fs::path& directory, const std::string& what) {
    if (!fs::exists(fs::symlink_status(directory))) return;
    const std::set<std::string> entries = owned_entries(directory, what);
    for (auto entry = entries.rbegin(); entry != entries.rend(); ++entry) {
        if (*entry != kListFile) fs::remove(directory / *entry);
    }
    fs::remove(directory / kListFile);
    fs::remove(directory);
}

std::string output_what(const fs::path& output) {
    return "--output " + output.string();
}

}  // namespace

void check_output(const fs::path& output) {
    if (fs::exists(output)) owned_entries(output, output_what(output));
}

SynthSummary generate_corpus(const SynthOptions& options) {
    fs::path output = options.output.lexically_normal();
    if (!output.has_filename()) output = output.parent_path();  // "corpus/" names "corpus"
    check_output(output);
    const fs::path staging = temporary_path_for(output);
    remove_own_directory(staging, staging.string() + " (left by an interrupted synth)");
    const CorpusPlan plan = plan_corpus(options);

    fs::create_directories(staging);  // and output's parents, so the rename stays local
    CorpusWriter writer(staging);
    writer.write(kMarkerFile, synth_json(options, plan));
    const LayoutFolders folders = layout_folders(options.layout);
    std::unique_ptr<CorpusSink> sink;
    if (options.layout == Layout::archives) {
        sink = std::make_unique<ArchiveSink>(writer, plan, options.seed);
    } else {
        sink = std::make_unique<FolderSink>(writer, folders);
    }

    SynthSummary summary;
    summary.classes = static_cast<int>(plan.classes.size());
    FileMaker maker(options);
    std::vector<LocRow> train_rows;
    for (const auto& class_plan : plan.classes) {
        write_train(class_plan, maker, *sink, train_rows, summary);
    }
    std::vector<LocRow> val_rows;
    for (const auto& image : plan.val) {
        sink->val_image(image.name, maker.val_image(image));
        sink->val_boxes(
            file_stem(image.name),
            voc_annotation_xml(clean_annotation("val", image.wnid, image.name, image.photo),
                               XmlStyle::pretty));
        val_rows.push_back({file_stem(image.name), image.wnid, image.photo.boxes});
        ++summary.val_images;
    }
    sink->finish();
    shuffle_rows(train_rows, options.seed);
    shuffle_rows(val_rows, options.seed);
    writer.write("LOC_train_solution.csv", loc_solution_csv(train_rows));
    writer.write("LOC_val_solution.csv", loc_solution_csv(val_rows));
    writer.write("LOC_synset_mapping.txt", synset_mapping_text(plan.classes));
    if (options.quirks) writer.write("quirks.json", quirks_json(plan, folders));

    writer.finish();
    sync_filesystem_of(staging);
    remove_own_directory(output, output_what(output));
    fs::rename(staging, output);
    fsync_directory(output.parent_path());
    summary.files = writer.files();
    summary.bytes = writer.bytes();
    return summary;
}

}  // namespace synshard::synth
