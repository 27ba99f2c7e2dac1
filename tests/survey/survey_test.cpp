#include "synshard/survey/survey.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <regex>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::survey {
namespace {

using corpus::CorpusOptions;
using corpus::Item;
using corpus::Split;
using plan::DroppedClass;
using plan::Plan;

std::map<std::string, Item> all_items(const PlanResult& result) {
    std::map<std::string, Item> items;
    for (std::size_t piece = 0; piece < result.share.pieces.size(); ++piece) {
        for (const auto& item : result.share_items(piece)) items.emplace(item.key, item);
    }
    return items;
}

const Rejection* find(const std::vector<Rejection>& rejected, const std::string& key) {
    for (const auto& rejection : rejected) {
        if (rejection.key == key) return &rejection;
    }
    return nullptr;
}

nlohmann::json comparable(const PlanResult& result) {
    auto json = plan::to_json(result.plan, result.rejected);
    json.erase("partition");
    return json;
}

TEST(Survey, EveryScannedInputIsPlannedOrRejectedWithItsReason) {
    testing::TempDir dir;
    testing::make_quirky_corpus(dir.path());
    CorpusOptions options;
    options.input = dir / "dirs";
    options.val_input = dir / "val";
    options.val_labels = dir / "LOC_val_solution.csv";
    options.boxes = {dir / "Annotation", dir / "LOC_val_solution.csv"};
    options.min_per_class = 5;
    mpi::Comm comm;
    const PlanResult result = make_plan(options, comm);
    const Plan& plan = result.plan;

    ASSERT_EQ(plan.classes.size(), 3u);
    EXPECT_EQ(plan.classes[0].wnid, "n01440764");
    EXPECT_EQ(plan.classes[2].wnid, "n02123045");
    EXPECT_EQ(plan.classes[2].words, "tabby, tabby cat");
    EXPECT_EQ(plan.classes[0].images, (std::array<std::uint64_t, 2>{12, 2}));
    EXPECT_EQ(plan.dropped_classes, (std::vector<DroppedClass>{{"n01484850", 3}}));
    EXPECT_EQ(plan.images, (std::array<std::uint64_t, 2>{30, 3}));
    EXPECT_EQ(plan.val_rule, "official");

    const auto& rejected = result.rejected;
    EXPECT_EQ(find(rejected, ".DS_Store")->reason, Reason::hidden);
    EXPECT_EQ(find(rejected, "README.txt")->reason, Reason::unlabeled);
    EXPECT_EQ(find(rejected, "n01484850/n01484850_1.JPEG")->reason, Reason::class_too_small);
    EXPECT_EQ(find(rejected, "val/ILSVRC2012_val_00000003.JPEG")->reason, Reason::unknown_class);
    EXPECT_EQ(find(rejected, "val/ILSVRC2012_val_00000004.JPEG")->reason, Reason::class_too_small);
    EXPECT_EQ(find(rejected, "val/ILSVRC2012_val_00000006.JPEG")->reason, Reason::unlabeled);
    EXPECT_EQ(rejected.size(), 2u + 3u + 3u);
    EXPECT_EQ(plan.rejected_total(), rejected.size());
    // 33 train files + 2 root entries + 6 val images, every one accounted for.
    EXPECT_EQ(plan.scanned, 41u);
    EXPECT_EQ(plan.scanned, plan.images[0] + plan.images[1] + plan.rejected_total());
    ASSERT_EQ(plan.notes.size(), 1u);
    EXPECT_NE(plan.notes[0].find("ILSVRC2012_val_00000007"), std::string::npos);

    const auto items = all_items(result);
    EXPECT_EQ(items.size(), 33u);
    const Item& tench = items.at("n01440764/n01440764_1.JPEG");
    EXPECT_EQ(tench.label, 0);
    EXPECT_EQ(tench.hash, keyed_hash(0, tench.key));
    ASSERT_EQ(tench.boxes.size(), 2u);
    EXPECT_EQ(tench.boxes[0].box, (image::Box{0, 5, 100, 51}));  // clamped to <size>
    EXPECT_EQ(tench.boxes[1].wnid, "n01440764");  // a class name, resolved by the folder
    EXPECT_EQ(tench.boxes[1].label, 0);
    const Item& goldfish_val = items.at("val/ILSVRC2012_val_00000002.JPEG");
    EXPECT_EQ(goldfish_val.split, Split::val);
    EXPECT_EQ(goldfish_val.label, 1);
    ASSERT_EQ(goldfish_val.boxes.size(), 2u);
    EXPECT_EQ(goldfish_val.boxes[1].wnid, "n01443537");  // "goldfish" resolved by WordNet words
    EXPECT_EQ(plan.boxes.fixed, 1u);
    EXPECT_EQ(plan.boxes.class_names, 2u);
    EXPECT_EQ(plan.boxes.placeholders, 1u);
    // n01440764_99 and val images 3 (unknown class), 4 (dropped class), 7 (missing).
    EXPECT_EQ(plan.boxes.unmatched, 4u);
    // The plan's hierarchy holds the classes and their ancestors up to entity.
    EXPECT_NO_THROW(plan.hierarchy.index_of("n02121808"));
    EXPECT_NO_THROW(plan.hierarchy.index_of("n00001740"));
}

TEST(Survey, FoldersAndTarsGiveTheSamePlan) {
    testing::TempDir dir;
    testing::make_two_layouts(dir.path(), {12, 8, 3, 10});
    CorpusOptions options;
    options.seed = 7;
    options.val_per_class = 2;
    options.max_per_class = 9;
    mpi::Comm comm;
    options.input = dir / "dirs";
    const auto folders = make_plan(options, comm);
    options.input = dir / "tars";
    const auto tars = make_plan(options, comm);
    auto a = comparable(folders);
    auto b = comparable(tars);
    a.erase("sources");  // folder vs tar kinds
    b.erase("sources");
    EXPECT_EQ(a, b);
    EXPECT_EQ(folders.plan.images, (std::array<std::uint64_t, 2>{7 + 6 + 2 + 7, 2 + 2 + 1 + 2}));
    EXPECT_EQ(folders.plan.rejected_counts.at(Reason::over_class_cap), 3u + 1u);
    const auto x = all_items(folders);
    const auto y = all_items(tars);
    ASSERT_EQ(x.size(), y.size());
    for (const auto& [key, item] : x) {
        const Item& other = y.at(key);
        EXPECT_EQ(item.split, other.split) << key;
        EXPECT_EQ(item.label, other.label) << key;
        EXPECT_EQ(item.hash, other.hash) << key;
        EXPECT_EQ(item.size, other.size) << key;
        EXPECT_FALSE(other.member.empty());
    }
}

TEST(Survey, WithoutAValRuleThereIsNoValSplit) {
    testing::TempDir dir;
    testing::make_two_layouts(dir.path(), {4, 4});
    CorpusOptions options;
    options.input = dir / "tars";
    mpi::Comm comm;
    const auto result = make_plan(options, comm);
    EXPECT_EQ(result.plan.val_rule, "none");
    EXPECT_EQ(result.plan.images, (std::array<std::uint64_t, 2>{8, 0}));
    EXPECT_TRUE(result.rejected.empty());
}

// A real synth corpus: train/ and train_tars/ (ustar members), a flat val/ with
// LOC_val_solution.csv, Annotation/ XMLs and LOC_synset_mapping.txt.
std::filesystem::path synth_corpus(const testing::TempDir& dir) {
    const auto corpus = dir / "corpus";
    const auto synth = testing::run_synshard({"synth", "--output", corpus.string(), "--num-classes",
                                              "3", "--per-class", "6", "--val-per-class", "2",
                                              "--image-size", "32x32"});
    if (synth.exit_code != 0) throw std::runtime_error(synth.output);
    return corpus;
}

CorpusOptions every_input_of(const std::filesystem::path& corpus, const std::string& train) {
    CorpusOptions options;
    options.input = corpus / train;
    options.val_input = corpus / "val";
    options.val_labels = corpus / "LOC_val_solution.csv";
    options.boxes = {corpus / "Annotation"};
    options.classes = corpus / "LOC_synset_mapping.txt";
    options.label_scheme = corpus::LabelScheme::file;
    return options;
}

struct timespec modification_time(const std::filesystem::path& path) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0) throw std::runtime_error("stat " + path.string());
    return status.st_mtim;
}

// Sets the modification time (and the access time to the same), to the nanosecond.
void set_modification_time(const std::filesystem::path& path, struct timespec when) {
    const struct timespec times[2] = {when, when};
    if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0)
        throw std::runtime_error("utimensat " + path.string());
}

using testing::read_text;

// Rewrites a file in place with text of the same size, keeping its modification time.
void rewrite_keeping_time(const std::filesystem::path& path, const std::string& text) {
    ASSERT_EQ(text.size(), std::filesystem::file_size(path));
    const struct timespec before = modification_time(path);
    std::ofstream(path, std::ios::binary | std::ios::in) << text;
    set_modification_time(path, before);
}

std::filesystem::path first_file(const std::filesystem::path& folder, const std::string& suffix) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        if (entry.path().string().ends_with(suffix)) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) throw std::runtime_error("no *" + suffix + " in " + folder.string());
    return files.front();
}

struct Surveyed {
    std::string input_fingerprint;
    manifest::ResumeFingerprint resume;
};

Surveyed survey(const CorpusOptions& options) {
    mpi::Comm comm;
    const PlanResult result = make_plan(options, comm);
    return {result.plan.input_fingerprint, result.resume_fingerprint};
}

TEST(Survey, ResumeFingerprintNamesInputsChangedInPlaceThatTheInputFingerprintMisses) {
    testing::TempDir dir;
    const auto corpus = synth_corpus(dir);
    const CorpusOptions options = every_input_of(corpus, "train");
    const Surveyed base = survey(options);
    ASSERT_EQ(base.resume.inputs.front(),
              (std::pair<std::string, std::string>{"--fingerprint", "stat"}));
    const Surveyed again = survey(options);
    EXPECT_EQ(again.resume, base.resume);  // untouched: identical
    EXPECT_EQ(manifest::digest(again.resume), manifest::digest(base.resume));
    const std::string wnid = first_file(corpus / "train", "").filename().string();

    // An image given a new modification time (as a rewrite with the same size does).
    const auto image = first_file(corpus / "train" / wnid, ".JPEG");
    struct timespec later = modification_time(image);
    later.tv_nsec = (later.tv_nsec + 1) % 1'000'000'000;
    set_modification_time(image, later);
    Surveyed now = survey(options);
    EXPECT_EQ(now.input_fingerprint, base.input_fingerprint);
    EXPECT_EQ(manifest::first_change(base.resume, now.resume),
              wnid + " (an image's size or modification time changed)");

    // A box XML edited to another box of the same size (xmin 158 -> 010), its time kept.
    const auto xml = first_file(corpus / "Annotation" / wnid, ".xml");
    const std::string text = read_text(xml);
    std::smatch xmin;
    ASSERT_TRUE(std::regex_search(text, xmin, std::regex("<xmin>([0-9]+)</xmin>")));
    std::string moved = xmin[1].str() == "1" ? "2" : std::string(xmin[1].length() - 1, '0') + "1";
    rewrite_keeping_time(xml,
                         xmin.prefix().str() + "<xmin>" + moved + "</xmin>" + xmin.suffix().str());
    const Surveyed boxes_edited = survey(options);
    EXPECT_EQ(boxes_edited.input_fingerprint, base.input_fingerprint);
    EXPECT_EQ(manifest::first_change(now.resume, boxes_edited.resume),
              "--boxes " + canonical_path(corpus / "Annotation").string() + " for " + wnid +
                  " (content changed)");

    // The --classes file with two lines swapped: the labels of --label-scheme file change.
    const auto classes = corpus / "LOC_synset_mapping.txt";
    std::string mapping = read_text(classes);
    const auto first_end = mapping.find('\n') + 1;
    const auto second_end = mapping.find('\n', first_end) + 1;
    rewrite_keeping_time(classes, mapping.substr(first_end, second_end - first_end) +
                                      mapping.substr(0, first_end) + mapping.substr(second_end));
    const Surveyed reordered = survey(options);
    EXPECT_EQ(reordered.input_fingerprint, base.input_fingerprint);
    EXPECT_EQ(manifest::first_change(boxes_edited.resume, reordered.resume),
              "--classes " + canonical_path(classes).string() + " (content changed)");
}

TEST(Survey, ContentFingerprintSeesAnImageRewrittenWithItsSizeAndTimeKept) {
    testing::TempDir dir;
    const auto corpus = synth_corpus(dir);
    CorpusOptions options = every_input_of(corpus, "train");
    const Surveyed stat_before = survey(options);
    options.fingerprint = corpus::FingerprintMode::content;
    const Surveyed content_before = survey(options);
    EXPECT_EQ(content_before.input_fingerprint, stat_before.input_fingerprint);
    EXPECT_EQ(manifest::first_change(stat_before.resume, content_before.resume),
              "--fingerprint stat -> content");

    const std::string wnid = first_file(corpus / "train", "").filename().string();
    const auto image = first_file(corpus / "train" / wnid, ".JPEG");
    std::string bytes = read_text(image);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x55);
    rewrite_keeping_time(image, bytes);

    const Surveyed content_after = survey(options);
    EXPECT_EQ(content_after.input_fingerprint, content_before.input_fingerprint);
    EXPECT_EQ(manifest::first_change(content_before.resume, content_after.resume),
              wnid + " (an image's size, modification time or content changed)");
    // What stat mode cannot see: the reason for --fingerprint content.
    options.fingerprint = corpus::FingerprintMode::stat;
    EXPECT_EQ(survey(options).resume, stat_before.resume);
}

// The ustar header of a tar's first member with its mtime field set to `seconds`
// (11 octal digits) and its checksum recomputed.
void set_first_member_mtime(std::string& tar, std::uint64_t seconds) {
    char field[13];
    std::snprintf(field, sizeof field, "%011llo", static_cast<unsigned long long>(seconds));
    std::copy_n(field, 12, tar.begin() + 136);
    std::fill_n(tar.begin() + 148, 8, ' ');
    unsigned sum = 0;
    for (int i = 0; i < 512; ++i)
        sum += static_cast<unsigned char>(tar[static_cast<std::size_t>(i)]);
    std::snprintf(field, sizeof field, "%06o", sum);
    std::copy_n(field, 7, tar.begin() + 148);  // six digits and a NUL, then the space
}

TEST(Survey, ResumeFingerprintOfTarsCoversTheTarAndItsMembersHeadersAndContent) {
    testing::TempDir dir;
    const auto corpus = synth_corpus(dir);
    CorpusOptions options = every_input_of(corpus, "train_tars");
    const Surveyed base = survey(options);
    EXPECT_EQ(survey(options).resume, base.resume);
    const auto tar = first_file(corpus / "train_tars", ".tar");
    const std::string wnid = tar.stem().string();
    const std::string changed = wnid + " (an image's size or modification time changed)";

    // The tar rewritten (a new modification time), its bytes the same.
    const struct timespec written = modification_time(tar);
    struct timespec later = written;
    later.tv_sec += 1;
    set_modification_time(tar, later);
    const Surveyed touched = survey(options);
    EXPECT_EQ(touched.input_fingerprint, base.input_fingerprint);
    EXPECT_EQ(manifest::first_change(base.resume, touched.resume), changed);
    set_modification_time(tar, written);
    EXPECT_EQ(survey(options).resume, base.resume);

    // A member's header declaring another modification time, the tar's size and time kept.
    const std::string original = read_text(tar);
    std::string member_touched = original;
    set_first_member_mtime(member_touched, 1'700'000'000);
    rewrite_keeping_time(tar, member_touched);
    const Surveyed header_changed = survey(options);
    EXPECT_EQ(header_changed.input_fingerprint, base.input_fingerprint);
    EXPECT_EQ(manifest::first_change(base.resume, header_changed.resume), changed);

    // A member's bytes changed, every size and time kept: only content mode sees it.
    rewrite_keeping_time(tar, original);
    options.fingerprint = corpus::FingerprintMode::content;
    const Surveyed content_before = survey(options);
    std::string member_rewritten = original;
    member_rewritten[512 + 100] = static_cast<char>(member_rewritten[512 + 100] ^ 0x55);
    rewrite_keeping_time(tar, member_rewritten);
    EXPECT_EQ(manifest::first_change(content_before.resume, survey(options).resume),
              wnid + " (an image's size, modification time or content changed)");
    options.fingerprint = corpus::FingerprintMode::stat;
    EXPECT_EQ(survey(options).resume, base.resume);
}

}  // namespace
}  // namespace synshard::survey
