// `synshard synth --layout archives`: the official downloads, holding byte for byte what
// the ilsvrc layout holds as files (and the kaggle layout's val XMLs), read back here with
// libarchive and with the converter's own devkit reader.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/test_support.hpp"
#include "synshard/corpus/devkit.hpp"
#include "synshard/util/fs.hpp"
#include "synth/layout_corpora.hpp"

namespace synshard {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using Bytes = std::vector<std::uint8_t>;
using Members = std::vector<std::pair<std::string, Bytes>>;

using testing::read_text;

using Reader = std::unique_ptr<archive, decltype(&archive_read_free)>;

Members read_all(Reader reader) {
    Members members;
    archive_entry* entry = nullptr;
    int status = ARCHIVE_OK;
    while ((status = archive_read_next_header(reader.get(), &entry)) == ARCHIVE_OK) {
        EXPECT_EQ(archive_entry_filetype(entry), AE_IFREG) << archive_entry_pathname(entry);
        Bytes bytes;
        char block[65536];
        for (la_ssize_t got; (got = archive_read_data(reader.get(), block, sizeof block)) > 0;) {
            bytes.insert(bytes.end(), block, block + got);
        }
        members.emplace_back(archive_entry_pathname(entry), std::move(bytes));
    }
    EXPECT_EQ(status, ARCHIVE_EOF) << archive_error_string(reader.get());
    return members;
}

// A tar's members in order, gzipped or not, read from a file or from memory.
Members tar_members(const fs::path& path) {
    Reader reader(archive_read_new(), &archive_read_free);
    archive_read_support_format_tar(reader.get());
    archive_read_support_filter_gzip(reader.get());
    EXPECT_EQ(archive_read_open_filename(reader.get(), path.c_str(), 65536), ARCHIVE_OK) << path;
    return read_all(std::move(reader));
}

Members tar_members(const Bytes& tar) {
    Reader reader(archive_read_new(), &archive_read_free);
    archive_read_support_format_tar(reader.get());
    EXPECT_EQ(archive_read_open_memory(reader.get(), tar.data(), tar.size()), ARCHIVE_OK);
    return read_all(std::move(reader));
}

// The files under folder, by relative path in byte order (the order synth adds members).
Members folder_files(const fs::path& folder) {
    std::map<std::string, Bytes> files;
    for (const auto& entry : fs::recursive_directory_iterator(folder)) {
        if (entry.is_regular_file()) {
            files[entry.path().lexically_relative(folder).generic_string()] =
                read_file(entry.path());
        }
    }
    return {files.begin(), files.end()};
}

std::vector<std::string> names_of(const Members& members) {
    std::vector<std::string> names;
    for (const auto& [name, bytes] : members) names.push_back(name);
    return names;
}

class SynthArchives : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = std::make_unique<TempDir>();
        testing::synth_in_layouts(dir_->path(), {"ilsvrc", "kaggle", "archives"});
    }
    static void TearDownTestSuite() { dir_.reset(); }

    static fs::path ilsvrc() { return dir_->path() / "ilsvrc"; }
    static fs::path kaggle() { return dir_->path() / "kaggle"; }
    static fs::path archives() { return dir_->path() / "archives"; }

    static inline std::unique_ptr<TempDir> dir_;
};

TEST_F(SynthArchives, TheTrainAndValTarsHoldTheIlsvrcImagesByteForByteInTheSameOrder) {
    const Members outer = tar_members(archives() / "ILSVRC2012_img_train.tar");
    std::vector<std::string> class_tars;
    for (const auto& entry : fs::directory_iterator(ilsvrc() / "train_tars")) {
        class_tars.push_back(entry.path().filename());
    }
    std::sort(class_tars.begin(), class_tars.end());
    ASSERT_EQ(class_tars.size(), 3U);
    EXPECT_EQ(names_of(outer), class_tars);
    std::size_t images = 0;
    for (const auto& [name, inner] : outer) {
        const std::string wnid = fs::path(name).stem();
        EXPECT_EQ(tar_members(inner), folder_files(ilsvrc() / "train" / wnid)) << name;
        // The very bytes of the per-synset tar the ilsvrc layout has beside its folders.
        EXPECT_EQ(inner, read_file(ilsvrc() / "train_tars" / name)) << name;
        images += tar_members(inner).size();
    }
    EXPECT_GT(images, 15U);

    const Members val = tar_members(archives() / "ILSVRC2012_img_val.tar");
    EXPECT_EQ(val.size(), 6U);
    EXPECT_EQ(val, folder_files(ilsvrc() / "val"));
}

TEST_F(SynthArchives, TheBoxTarsHoldTheIlsvrcAnnotationsAndKagglesValXmls) {
    const Members train_boxes = tar_members(archives() / "ILSVRC2012_bbox_train_v2.tar.gz");
    EXPECT_GT(train_boxes.size(), 5U);
    EXPECT_EQ(train_boxes, folder_files(ilsvrc() / "Annotation"));

    Members expected_val;
    for (const auto& [name, bytes] : folder_files(kaggle() / "ILSVRC/Annotations/CLS-LOC/val")) {
        expected_val.emplace_back("val/" + name, bytes);
    }
    EXPECT_EQ(expected_val.size(), 6U);
    EXPECT_EQ(tar_members(archives() / "ILSVRC2012_bbox_val_v3.tgz"), expected_val);
}

TEST_F(SynthArchives, TheGzippedTrainTarDecompressesToThePlainOne) {
    const Bytes gzipped = read_file(archives() / "ILSVRC2012_img_train.tar.gz");
    ASSERT_GT(gzipped.size(), 10U);
    EXPECT_EQ(gzipped[0], 0x1F);
    EXPECT_EQ(gzipped[1], 0x8B);
    EXPECT_EQ(Bytes(gzipped.begin() + 4, gzipped.begin() + 8), Bytes(4, 0)) << "no mtime";

    Reader reader(archive_read_new(), &archive_read_free);
    archive_read_support_format_raw(reader.get());
    archive_read_support_filter_gzip(reader.get());
    ASSERT_EQ(archive_read_open_memory(reader.get(), gzipped.data(), gzipped.size()), ARCHIVE_OK);
    const Members raw = read_all(std::move(reader));
    ASSERT_EQ(raw.size(), 1U);
    EXPECT_EQ(raw.front().second, read_file(archives() / "ILSVRC2012_img_train.tar"));
}

TEST_F(SynthArchives, TheDevkitIsOneTheConvertersReaderReadsAndItLabelsValAsTheCsvDoes) {
    const fs::path archive = archives() / "ILSVRC2012_devkit_t12.tar.gz";
    const corpus::Devkit devkit = corpus::read_devkit(archive);
    EXPECT_EQ(devkit.member, "ILSVRC2012_devkit_t12/data/meta.mat");
    EXPECT_EQ(devkit.id_field, "ILSVRC2012_ID");
    std::set<std::string> classes(devkit.classes.begin(), devkit.classes.end());
    std::set<std::string> mapped;
    std::istringstream mapping(read_text(archives() / "LOC_synset_mapping.txt"));
    for (std::string line; std::getline(mapping, line);) mapped.insert(line.substr(0, 9));
    EXPECT_EQ(devkit.classes.size(), 3U);
    EXPECT_EQ(classes, mapped);

    std::map<std::string, Bytes> members;
    for (auto& [name, bytes] : tar_members(archive)) members[name] = std::move(bytes);
    const Bytes& truth =
        members.at("ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt");
    std::istringstream ids(std::string(truth.begin(), truth.end()));
    std::map<std::string, std::string> truth_labels;
    int image = 0;
    for (std::string id; std::getline(ids, id);) {
        const std::string number = std::to_string(++image);
        truth_labels["ILSVRC2012_val_" + std::string(8 - number.size(), '0') + number] =
            devkit.wnid_by_id.at(std::stoi(id));
    }
    std::map<std::string, std::string> csv_labels;
    std::istringstream rows(read_text(archives() / "LOC_val_solution.csv"));
    std::string row;
    std::getline(rows, row);  // the header
    while (std::getline(rows, row)) {
        const auto comma = row.find(',');
        csv_labels[row.substr(0, comma)] = row.substr(comma + 1, 9);
    }
    EXPECT_EQ(truth_labels.size(), 6U);
    EXPECT_EQ(truth_labels, csv_labels);
}

// quirks.json names a member as "<archive>/<member>", a class tar's member as
// "ILSVRC2012_img_train.tar/<wnid>.tar/<name>".
TEST_F(SynthArchives, QuirksNameMembersTheArchivesHoldWithTheIlsvrcFilesBytes) {
    std::map<std::string, Bytes> members;
    for (const char* name : {"ILSVRC2012_img_val.tar", "ILSVRC2012_bbox_train_v2.tar.gz"}) {
        for (auto& [member, bytes] : tar_members(archives() / name)) {
            members[std::string(name) + "/" + member] = std::move(bytes);
        }
    }
    for (const auto& [class_tar, inner] : tar_members(archives() / "ILSVRC2012_img_train.tar")) {
        for (auto& [member, bytes] : tar_members(inner)) {
            members["ILSVRC2012_img_train.tar/" + class_tar + "/" + member] = std::move(bytes);
        }
    }
    const auto quirks = nlohmann::json::parse(read_text(archives() / "quirks.json"));
    const auto official = nlohmann::json::parse(read_text(ilsvrc() / "quirks.json"));
    ASSERT_EQ(quirks.size(), official.size());
    std::size_t hidden = 0;
    for (const auto& [path, entry] : quirks.items()) {
        ASSERT_TRUE(members.count(path)) << path << " is no member";
        hidden += path.ends_with("/.DS_Store") ? 1 : 0;
        if (entry.contains("same_as")) {
            EXPECT_EQ(members.at(path), members.at(entry["same_as"])) << path;
        }
    }
    EXPECT_EQ(hidden, 1U) << "the hidden file is inside its class tar";

    // The corpus is wholly synth's: its list names everything it holds.
    std::set<std::string> listed;
    std::istringstream lines(read_text(archives() / "synth-files.txt"));
    for (std::string line; std::getline(lines, line);) listed.insert(line);
    std::set<std::string> tree;
    for (const auto& entry : fs::directory_iterator(archives())) {
        tree.insert(entry.path().filename());
    }
    EXPECT_EQ(listed, tree);
    EXPECT_EQ(tree.size(), 12U);
}

}  // namespace
}  // namespace synshard
