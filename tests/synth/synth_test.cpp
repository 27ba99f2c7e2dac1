#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <libexif/exif-data.h>
#include <turbojpeg.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <pugixml.hpp>
#include <set>
#include <sstream>

#include "support/test_support.hpp"
#include "synshard/image/jpeg_encoder.hpp"
#include "synshard/synth/generator.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::synth {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;
using testing::TempDir;

SynthOptions quirky_options(const fs::path& output, std::uint64_t seed = 7) {
    SynthOptions options;
    options.output = output;
    options.num_classes = 3;
    options.per_class = 6;
    options.val_per_class = 2;
    options.seed = seed;
    options.quirks = true;
    return options;
}

using testing::lines_of;
using testing::read_text;

std::vector<std::string> words_of(const std::string& text) {
    std::vector<std::string> words;
    std::istringstream stream(text);
    for (std::string word; stream >> word;) words.push_back(word);
    return words;
}

struct JpegHeader {
    bool ok = false;
    int width = 0;
    int height = 0;
    int colorspace = -1;
};

struct Decompressor {
    tjhandle handle = tjInitDecompress();
    ~Decompressor() { tjDestroy(handle); }
};

JpegHeader jpeg_header(const Bytes& bytes) {
    Decompressor decompressor;
    JpegHeader header;
    int subsampling = 0;
    header.ok = tjDecompressHeader3(decompressor.handle, const_cast<unsigned char*>(bytes.data()),
                                    bytes.size(), &header.width, &header.height, &subsampling,
                                    &header.colorspace) == 0;
    return header;
}

enum class DecodeOutcome { clean, warning, fatal };

DecodeOutcome full_decode(const Bytes& bytes) {
    const JpegHeader header = jpeg_header(bytes);
    if (!header.ok) return DecodeOutcome::fatal;
    Decompressor decompressor;
    std::vector<unsigned char> pixels(static_cast<std::size_t>(header.width) * header.height * 3);
    if (tjDecompress2(decompressor.handle, const_cast<unsigned char*>(bytes.data()), bytes.size(),
                      pixels.data(), header.width, 0, header.height, TJPF_RGB, 0) == 0) {
        return DecodeOutcome::clean;
    }
    return tjGetErrorCode(decompressor.handle) == TJERR_WARNING ? DecodeOutcome::warning
                                                                : DecodeOutcome::fatal;
}

bool has_marker_before_scan(const Bytes& bytes, std::uint8_t code) {
    for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
        if (bytes[i] != 0xFF) continue;
        if (bytes[i + 1] == code) return true;
        if (bytes[i + 1] == 0xDA) return false;
    }
    return false;
}

// One quirky corpus shared by the read-back tests (generation is the slow part).
class SynthCorpus : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = std::make_unique<TempDir>();
        summary_ = generate_corpus(quirky_options(root()));
        quirks_ = nlohmann::json::parse(read_text(root() / "quirks.json"));
    }
    static void TearDownTestSuite() { dir_.reset(); }

    static fs::path root() { return dir_->path() / "corpus"; }
    static Bytes file(const std::string& relative) { return read_file(root() / relative); }

    // The one quirks.json entry with this quirk name: its path.
    static std::string path_of(const std::string& quirk) {
        std::string found;
        for (const auto& [path, entry] : quirks_.items()) {
            if (entry["quirk"] == quirk) {
                EXPECT_TRUE(found.empty()) << "two files claim " << quirk;
                found = path;
            }
        }
        EXPECT_FALSE(found.empty()) << "no file claims " << quirk;
        return found;
    }

    static std::unique_ptr<TempDir> dir_;
    static SynthSummary summary_;
    static nlohmann::json quirks_;
};

std::unique_ptr<TempDir> SynthCorpus::dir_;
SynthSummary SynthCorpus::summary_;
nlohmann::json SynthCorpus::quirks_;

TEST(SynthDeterminism, SameSeedGivesByteIdenticalTreesAndAnotherSeedDoesNot) {
    TempDir dir;
    generate_corpus(quirky_options(dir / "a"));
    generate_corpus(quirky_options(dir / "b"));
    generate_corpus(quirky_options(dir / "c", 8));
    const auto a = testing::file_digests(dir / "a");
    const auto b = testing::file_digests(dir / "b");
    EXPECT_GT(a.size(), 60U);
    EXPECT_EQ(a, b);
    const auto c = testing::file_digests(dir / "c");
    ASSERT_TRUE(c.count("val/ILSVRC2012_val_00000003.JPEG"));
    EXPECT_NE(a.at("val/ILSVRC2012_val_00000003.JPEG"), c.at("val/ILSVRC2012_val_00000003.JPEG"));
    EXPECT_NE(a.at("LOC_val_solution.csv"), c.at("LOC_val_solution.csv"));
    // Nothing is left behind besides the corpus.
    EXPECT_FALSE(fs::exists(dir / "a.tmp"));
}

TEST(SynthDeterminism, RegeneratingReplacesAPreviousCorpus) {
    TempDir dir;
    SynthOptions options = quirky_options(dir / "corpus");
    generate_corpus(options);
    options.num_classes = 2;
    options.quirks = false;
    generate_corpus(options);
    std::set<std::string> classes;
    for (const auto& entry : fs::directory_iterator(dir / "corpus" / "train")) {
        classes.insert(entry.path().filename());
    }
    EXPECT_EQ(classes.size(), 2U);
    EXPECT_FALSE(fs::exists(dir / "corpus" / "quirks.json"));

    fs::create_directories(dir / "precious");
    std::ofstream(dir / "precious" / "notes.txt") << "mine";
    options.output = dir / "precious";
    EXPECT_THROW(generate_corpus(options), UsageError);
    EXPECT_EQ(read_text(dir / "precious" / "notes.txt"), "mine");
}

TEST(SynthDeterminism, RegeneratingRefusesACorpusThatHoldsFilesSynthDidNotWrite) {
    TempDir dir;
    SynthOptions options = quirky_options(dir / "corpus");
    generate_corpus(options);
    fs::create_directories(dir / "corpus" / "out");
    std::ofstream(dir / "corpus" / "out" / "manifest.json") << "a conversion's output";
    EXPECT_THROW(generate_corpus(options), UsageError);
    EXPECT_EQ(read_text(dir / "corpus" / "out" / "manifest.json"), "a conversion's output");
    EXPECT_TRUE(fs::exists(dir / "corpus" / "synth.json")) << "nothing is removed on refusal";
}

TEST_F(SynthCorpus, ConvertibleQuirksAreWhatTheyClaim) {
    const Bytes gray = file(path_of("grayscale"));
    EXPECT_EQ(jpeg_header(gray).colorspace, TJCS_GRAY);
    EXPECT_EQ(full_decode(gray), DecodeOutcome::clean);

    const Bytes cmyk = file(path_of("cmyk"));
    const int colorspace = jpeg_header(cmyk).colorspace;
    EXPECT_TRUE(colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) << colorspace;

    const Bytes png = file(path_of("png-named-jpeg"));
    EXPECT_TRUE(path_of("png-named-jpeg").ends_with(".JPEG"));
    const Bytes signature{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    ASSERT_GE(png.size(), signature.size());
    EXPECT_TRUE(std::equal(signature.begin(), signature.end(), png.begin()));
    const cv::Mat decoded = cv::imdecode(png, cv::IMREAD_COLOR);
    EXPECT_FALSE(decoded.empty());
    EXPECT_FALSE(jpeg_header(png).ok);

    const Bytes rotated = file(path_of("exif-orientation-6"));
    EXPECT_EQ(full_decode(rotated), DecodeOutcome::clean);
    std::unique_ptr<ExifData, decltype(&exif_data_unref)> exif(
        exif_data_new_from_data(rotated.data(), static_cast<unsigned>(rotated.size())),
        &exif_data_unref);
    ASSERT_NE(exif, nullptr);
    ExifEntry* orientation = exif_data_get_entry(exif.get(), EXIF_TAG_ORIENTATION);
    ASSERT_NE(orientation, nullptr);
    EXPECT_EQ(exif_get_short(orientation->data, exif_data_get_byte_order(exif.get())), 6);

    const Bytes progressive = file(path_of("progressive"));
    EXPECT_TRUE(has_marker_before_scan(progressive, 0xC2));
    EXPECT_FALSE(has_marker_before_scan(progressive, 0xC0));
    EXPECT_EQ(full_decode(progressive), DecodeOutcome::clean);

    for (const char* quirk :
         {"grayscale", "cmyk", "png-named-jpeg", "exif-orientation-6", "progressive"}) {
        EXPECT_EQ(quirks_[path_of(quirk)]["expected_reason"], "none") << quirk;
    }
}

TEST_F(SynthCorpus, RejectableQuirksAreWhatTheyClaim) {
    const Bytes truncated = file(path_of("truncated"));
    EXPECT_TRUE(jpeg_header(truncated).ok);
    EXPECT_EQ(full_decode(truncated), DecodeOutcome::warning);
    EXPECT_FALSE(truncated[truncated.size() - 2] == 0xFF && truncated.back() == 0xD9);

    const Bytes corrupt = file(path_of("corrupt"));
    EXPECT_TRUE(jpeg_header(corrupt).ok);
    EXPECT_EQ(full_decode(corrupt), DecodeOutcome::warning);
    // Still a whole file: the end marker is intact.
    EXPECT_TRUE(corrupt[corrupt.size() - 2] == 0xFF && corrupt.back() == 0xD9);
    // A clean decode of regular files shows the warning is the corruption's.
    EXPECT_EQ(full_decode(file(quirks_[path_of("duplicate-within-class")]["same_as"])),
              DecodeOutcome::clean);

    const JpegHeader huge = jpeg_header(file(path_of("header-40000x40000")));
    EXPECT_TRUE(huge.ok);
    EXPECT_EQ(huge.width, 40000);
    EXPECT_EQ(huge.height, 40000);

    const JpegHeader tiny = jpeg_header(file(path_of("too-small")));
    EXPECT_TRUE(tiny.ok);
    EXPECT_LT(std::max(tiny.width, tiny.height), 32);

    EXPECT_TRUE(file(path_of("empty")).empty());

    const Bytes text = file(path_of("not-an-image"));
    EXPECT_FALSE(text.empty());
    EXPECT_FALSE(jpeg_header(text).ok);
    EXPECT_TRUE(cv::imdecode(text, cv::IMREAD_COLOR).empty());

    EXPECT_EQ(fs::path(path_of("hidden-file")).filename(), ".DS_Store");

    const std::map<std::string, std::string> expected{{"truncated", "truncated"},
                                                      {"corrupt", "corrupt"},
                                                      {"header-40000x40000", "too-large"},
                                                      {"too-small", "too-small"},
                                                      {"empty", "empty"},
                                                      {"not-an-image", "unsupported-format"},
                                                      {"hidden-file", "hidden"},
                                                      {"duplicate-within-class", "duplicate"}};
    for (const auto& [quirk, reason] : expected) {
        EXPECT_EQ(quirks_[path_of(quirk)]["expected_reason"], reason) << quirk;
        EXPECT_TRUE(parse_reason(reason).has_value()) << reason;
    }
}

TEST_F(SynthCorpus, DuplicatesAndTheValLeakHaveTheirTwinsBytes) {
    const auto twin_of = [&](const std::string& quirk) {
        const std::string path = path_of(quirk);
        const std::string same_as = quirks_[path]["same_as"];
        EXPECT_EQ(file(path), file(same_as)) << quirk;
        EXPECT_NE(path, same_as);
        return std::pair(fs::path(path), fs::path(same_as));
    };
    const auto [across, across_twin] = twin_of("duplicate-across-classes");
    EXPECT_NE(across.parent_path(), across_twin.parent_path());
    const auto [within, within_twin] = twin_of("duplicate-within-class");
    EXPECT_EQ(within.parent_path(), within_twin.parent_path());
    const auto [leak, leak_twin] = twin_of("val-train-leak");
    EXPECT_EQ(leak.parent_path(), "val");
    EXPECT_EQ(leak_twin.parent_path().parent_path(), "train");
    // The leak is labelled with its twin's class in LOC_val_solution.csv.
    const std::string csv = read_text(root() / "LOC_val_solution.csv");
    const std::string row =
        leak.stem().string() + "," + leak_twin.parent_path().filename().string();
    EXPECT_NE(csv.find(row), std::string::npos) << row;
}

TEST_F(SynthCorpus, TarsHoldExactlyTheClassFolders) {
    std::size_t classes = 0;
    for (const auto& class_dir : fs::directory_iterator(root() / "train")) {
        ++classes;
        std::map<std::string, Bytes> folder;
        for (const auto& entry : fs::directory_iterator(class_dir)) {
            folder[entry.path().filename()] = read_file(entry.path());
        }
        const fs::path tar =
            root() / "train_tars" / (class_dir.path().filename().string() + ".tar");
        std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(),
                                                                      &archive_read_free);
        archive_read_support_format_tar(reader.get());
        ASSERT_EQ(archive_read_open_filename(reader.get(), tar.c_str(), 10240), ARCHIVE_OK) << tar;
        std::map<std::string, Bytes> members;
        std::vector<std::string> order;
        archive_entry* entry = nullptr;
        while (archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK) {
            EXPECT_EQ(archive_entry_filetype(entry), AE_IFREG);
            EXPECT_EQ(archive_entry_perm(entry), 0644);
            EXPECT_EQ(archive_entry_mtime(entry), 0);
            EXPECT_EQ(archive_entry_uid(entry), 0);
            Bytes bytes(static_cast<std::size_t>(archive_entry_size(entry)));
            if (!bytes.empty()) {
                ASSERT_EQ(archive_read_data(reader.get(), bytes.data(), bytes.size()),
                          static_cast<la_ssize_t>(bytes.size()));
            }
            order.push_back(archive_entry_pathname(entry));
            members[order.back()] = std::move(bytes);
        }
        EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
        EXPECT_EQ(members, folder) << tar;
    }
    EXPECT_EQ(classes, 3U);
}

TEST_F(SynthCorpus, SolutionFilesAndMappingMatchTheFiles) {
    const auto mapping = lines_of(read_text(root() / "LOC_synset_mapping.txt"));
    std::vector<std::string> wnids;
    for (const auto& line : mapping) {
        const auto space = line.find(' ');
        ASSERT_NE(space, std::string::npos) << line;
        EXPECT_GT(line.size(), space + 1) << line;
        wnids.push_back(line.substr(0, space));
    }
    std::vector<std::string> folders;
    for (const auto& entry : fs::directory_iterator(root() / "train")) {
        folders.push_back(entry.path().filename());
    }
    std::sort(folders.begin(), folders.end());
    EXPECT_EQ(wnids, folders);  // alphabetical, one line per class

    const auto rows = lines_of(read_text(root() / "LOC_val_solution.csv"));
    ASSERT_FALSE(rows.empty());
    EXPECT_EQ(rows.front(), "ImageId,PredictionString");
    std::set<std::string> ids;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto comma = rows[i].find(',');
        const std::string id = rows[i].substr(0, comma);
        ids.insert(id);
        EXPECT_EQ(rows[i].back(), ' ') << rows[i];
        const auto fields = words_of(rows[i].substr(comma + 1));
        ASSERT_FALSE(fields.empty());
        ASSERT_EQ(fields.size() % 5, 0U) << rows[i];
        const JpegHeader header = jpeg_header(file("val/" + id + ".JPEG"));
        for (std::size_t f = 0; f < fields.size(); f += 5) {
            EXPECT_EQ(fields[f], fields[0]);  // one class per val image
            EXPECT_TRUE(std::binary_search(wnids.begin(), wnids.end(), fields[f]));
            const int xmin = std::stoi(fields[f + 1]), ymin = std::stoi(fields[f + 2]);
            const int xmax = std::stoi(fields[f + 3]), ymax = std::stoi(fields[f + 4]);
            EXPECT_TRUE(1 <= xmin && xmin <= xmax && xmax <= header.width) << rows[i];
            EXPECT_TRUE(1 <= ymin && ymin <= ymax && ymax <= header.height) << rows[i];
        }
    }
    std::set<std::string> val_files;
    for (const auto& entry : fs::directory_iterator(root() / "val")) {
        val_files.insert(entry.path().stem());
    }
    EXPECT_EQ(ids, val_files);
    EXPECT_EQ(ids.size(), 6U);
    EXPECT_EQ(*ids.begin(), "ILSVRC2012_val_00000001");

    const auto train_rows = lines_of(read_text(root() / "LOC_train_solution.csv"));
    EXPECT_EQ(train_rows.front(), "ImageId,PredictionString");
    std::size_t xml_count = 0;
    for (const auto& entry : fs::recursive_directory_iterator(root() / "Annotation")) {
        xml_count += entry.is_regular_file() ? 1 : 0;
    }
    EXPECT_EQ(train_rows.size() - 1, xml_count);
    for (std::size_t i = 1; i < train_rows.size(); ++i) {
        const std::string id = train_rows[i].substr(0, train_rows[i].find(','));
        const std::string wnid = id.substr(0, id.find('_'));
        EXPECT_TRUE(fs::exists(root() / "Annotation" / wnid / (id + ".xml"))) << id;
        EXPECT_TRUE(fs::exists(root() / "train" / wnid / (id + ".JPEG"))) << id;
    }
}

TEST_F(SynthCorpus, AnnotationsDescribeTheirImages) {
    int pretty = 0, one_line = 0;
    std::set<std::string> noisy;
    for (const auto& [path, entry] : quirks_.items()) {
        if (path.starts_with("Annotation/")) noisy.insert(path);
    }
    EXPECT_EQ(noisy.size(), 5U);
    for (const auto& entry : fs::recursive_directory_iterator(root() / "Annotation")) {
        if (!entry.is_regular_file()) continue;
        const std::string relative = fs::relative(entry.path(), root()).generic_string();
        const std::string text = read_text(entry.path());
        (std::count(text.begin(), text.end(), '\n') > 1 ? pretty : one_line) += 1;
        pugi::xml_document document;
        ASSERT_TRUE(document.load_string(text.c_str())) << relative;
        const auto annotation = document.child("annotation");
        const std::string wnid = entry.path().parent_path().filename();
        const std::string stem = entry.path().stem();
        const JpegHeader header = jpeg_header(file("train/" + wnid + "/" + stem + ".JPEG"));
        ASSERT_TRUE(header.ok) << relative;
        EXPECT_EQ(annotation.child("size").child("width").text().as_int(), header.width);
        EXPECT_EQ(annotation.child("size").child("height").text().as_int(), header.height);
        const std::string quirk =
            noisy.count(relative) ? quirks_[relative]["quirk"].get<std::string>() : "";
        EXPECT_EQ(annotation.child("filename").text().as_string(),
                  quirk == "filename-placeholder" ? "%s" : stem);
        const auto object = annotation.child("object");
        ASSERT_TRUE(object) << relative;
        EXPECT_EQ(object.child("name").text().as_string() == wnid,
                  quirk != "class-name-instead-of-wnid");
        const auto box = object.child("bndbox");
        const std::string xmin = box.child("xmin").text().as_string();
        const double x0 = box.child("xmin").text().as_double();
        const double x1 = box.child("xmax").text().as_double();
        const double y1 = box.child("ymax").text().as_double();
        EXPECT_EQ(xmin.find('.') != std::string::npos, quirk == "float-coordinates") << relative;
        EXPECT_EQ(x0 > x1, quirk == "min-greater-than-max") << relative;
        EXPECT_EQ(x1 > header.width || y1 > header.height, quirk == "box-outside-image")
            << relative;
    }
    EXPECT_GT(pretty, 0);
    EXPECT_GT(one_line, 0);
}

// Mean absolute Laplacian of the grey image: near 0 for flat colour, large for photos.
double detail_of(const cv::Mat& image) {
    cv::Mat gray, laplacian;
    cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
    cv::Laplacian(gray, laplacian, CV_16S);
    return cv::mean(cv::abs(laplacian))[0];
}

TEST(SynthPhotos, ImagesArePhotoLikeAndImageNetSized) {
    TempDir dir;
    SynthOptions options;
    options.output = dir / "corpus";
    options.num_classes = 2;
    options.per_class = 12;
    options.val_per_class = 1;
    options.seed = 3;
    options.large_fraction = 0;
    const SynthSummary summary = generate_corpus(options);
    EXPECT_EQ(summary.classes, 2);
    EXPECT_EQ(summary.val_images, 2);

    double bytes_per_pixel = 0;
    int images = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir / "corpus" / "train")) {
        if (!entry.is_regular_file()) continue;
        const cv::Mat image = cv::imread(entry.path().string(), cv::IMREAD_COLOR);
        ASSERT_FALSE(image.empty()) << entry.path();
        cv::Scalar mean, deviation;
        cv::meanStdDev(image, mean, deviation);
        EXPECT_GT(deviation[0] + deviation[1] + deviation[2], 45) << entry.path();
        EXPECT_GT(detail_of(image), 20) << entry.path();
        bytes_per_pixel += static_cast<double>(fs::file_size(entry.path())) / image.total();
        ++images;
    }
    ASSERT_GT(images, 10);
    // ImageNet's q90 500x375 photos average about 110 KB, 0.6 bytes a pixel.
    bytes_per_pixel /= images;
    EXPECT_GT(bytes_per_pixel, 0.35);
    EXPECT_LT(bytes_per_pixel, 1.2);

    // The thresholds do separate photos from flat colour.
    const cv::Mat flat(375, 500, CV_8UC3, cv::Scalar(40, 120, 200));
    EXPECT_LT(detail_of(flat), 1);
}

TEST(SynthCli, WritesACorpusAndRejectsBadValuesWritingNothing) {
    TempDir dir;
    const std::string out = (dir / "corpus").string();
    const auto ok =
        testing::run_synshard({"synth", "--output", out, "--num-classes", "2", "--per-class", "3",
                               "--val-per-class", "1", "--image-size", "48x48", "--quirks"});
    EXPECT_EQ(ok.exit_code, 0) << ok.output;
    EXPECT_NE(ok.output.find("synth: 2 classes"), std::string::npos) << ok.output;
    EXPECT_TRUE(fs::exists(dir / "corpus" / "quirks.json"));
    EXPECT_EQ(jpeg_header(read_file(dir / "corpus" / "val" / "ILSVRC2012_val_00000002.JPEG")).width,
              48);

    for (const std::vector<std::string>& bad : {std::vector<std::string>{"--num-classes", "0"},
                                                {"--num-classes", "100000"},
                                                {"--quality", "0"},
                                                {"--image-size", "48"},
                                                {"--per-class", "many"}}) {
        std::vector<std::string> args{"synth", "--output", (dir / "never").string()};
        args.insert(args.end(), bad.begin(), bad.end());
        const auto result = testing::run_synshard(args);
        EXPECT_EQ(result.exit_code, 2) << bad[0] << " " << bad[1] << ": " << result.output;
        EXPECT_FALSE(fs::exists(dir / "never"));
        EXPECT_FALSE(fs::exists(dir / "never.tmp"));
    }

    std::ofstream(dir / "plain-file") << "x";
    EXPECT_EQ(testing::run_synshard({"synth", "--output", (dir / "plain-file").string()}).exit_code,
              2);
}

TEST(SynthCli, SampleJobFileRuns) {
    TempDir dir;
    const fs::path job = fs::path(SYNSHARD_SOURCE_DIR) / "jobs" / "sample.ini";
    const auto result = testing::run_synshard({"synth", "--config", job.string(), "--output",
                                               (dir / "corpus").string(), "--num-classes", "1",
                                               "--per-class", "2", "--val-per-class", "1"});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    const auto marker = nlohmann::json::parse(read_text(dir / "corpus" / "synth.json"));
    EXPECT_EQ(marker["seed"], 2012);  // from the job file
    EXPECT_EQ(marker["quirks"], true);
    EXPECT_EQ(marker["num_classes"], 1);  // the command line wins
}

}  // namespace
}  // namespace synshard::synth
