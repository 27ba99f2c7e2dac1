// The downloaded archives given as they are (issue 19): `--input` a tar of per-synset tars
// (ILSVRC2012_img_train.tar) and `--val-input` a flat tar of val JPEGs
// (ILSVRC2012_img_val.tar) give the same shards as the extracted folders and the
// per-synset tars; hostile outer archives are each reported naming the member, and the
// rest converts.
#include <gtest/gtest.h>

#include <algorithm>

#include "convert/same_shards.hpp"
#include "corpus/corpus_fixture.hpp"
#include "faults/fault_support.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::testing {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kCommonOptions{
    "--seed", "3",      "--shard-size", "8", "--resize", "shorter:32", "--max-reject-fraction",
    "0.9",    "--quiet"};

std::vector<fs::path> synset_tars(const fs::path& corpus) {
    auto tars = files_ending_with(corpus / "train_tars", ".tar");
    std::sort(tars.begin(), tars.end());
    return tars;
}

ProcessResult convert(const fs::path& train, const fs::path& val, const fs::path& labels,
                      const fs::path& out) {
    std::vector<std::string> args{"convert",       "--input",    train.string(),
                                  "--val-input",   val.string(), "--val-labels",
                                  labels.string(), "--output",   out.string()};
    args.insert(args.end(), kCommonOptions.begin(), kCommonOptions.end());
    return run_synshard(args);
}

// README's command on the official downloads as synth writes them (--layout archives):
// val labelled by the devkit archive's ground truth, boxes from the two box archives.
// The same shards as the extracted folders labelled and boxed by the LOC csv files.
TEST(OuterArchive, TheDownloadedFilesAloneConvertAsTheirExtractedFolders) {
    TempDir dir;
    const std::vector<std::string> corpus_options{"--num-classes",   "4", "--per-class", "6",
                                                  "--val-per-class", "3", "--seed",      "4"};
    const auto synth = [&](const std::string& layout, const fs::path& output) {
        std::vector<std::string> args{"synth", "--output", output.string(), "--layout", layout};
        args.insert(args.end(), corpus_options.begin(), corpus_options.end());
        const auto result = run_synshard(args);
        ASSERT_EQ(result.exit_code, 0) << result.output;
    };
    const fs::path folders = dir / "ilsvrc";
    const fs::path downloads = dir / "downloads";
    synth("ilsvrc", folders);
    synth("archives", downloads);
    const fs::path devkit = downloads / "ILSVRC2012_devkit_t12.tar.gz";
    const auto run = [&](std::vector<std::string> args, const fs::path& out) {
        args.insert(args.begin(), "convert");
        args.insert(args.end(), {"--devkit", devkit.string(), "--output", out.string()});
        args.insert(args.end(), kCommonOptions.begin(), kCommonOptions.end());
        return run_synshard(args);
    };
    const auto extracted =
        run({"--input", (folders / "train").string(), "--val-input", (folders / "val").string(),
             "--val-labels", (folders / "LOC_val_solution.csv").string(), "--boxes",
             (folders / "Annotation").string()},
            dir / "from-folders");
    ASSERT_EQ(extracted.exit_code, 0) << extracted.output;
    const auto downloaded =
        run({"--input", (downloads / "ILSVRC2012_img_train.tar").string(), "--val-input",
             (downloads / "ILSVRC2012_img_val.tar").string(), "--boxes",
             (downloads / "ILSVRC2012_bbox_train_v2.tar.gz").string(), "--boxes",
             (downloads / "ILSVRC2012_bbox_val_v3.tgz").string()},
            dir / "from-downloads");
    ASSERT_EQ(downloaded.exit_code, 0) << downloaded.output;
    expect_same_shards(dir / "from-folders", dir / "from-downloads");
}

TEST(OuterArchive, FoldersSynsetTarsAndTheDownloadedTarsGiveTheSameShards) {
    TempDir dir;
    const fs::path corpus = dir / "corpus";
    const auto synth =
        run_synshard({"synth", "--output", corpus.string(), "--num-classes", "4", "--per-class",
                      "6", "--val-per-class", "3", "--image-size", "64x48", "--seed", "4"});
    ASSERT_EQ(synth.exit_code, 0) << synth.output;
    // As ImageNet ships them: the synset tars under a folder (their basename decides) in
    // one GNU tar, the val JPEGs flat in a pax tar whose members start with "./".
    const auto packed = run_shell(
        "cd " + shell_quote(corpus.string()) +
        " && tar --format=gnu -cf ../train.tar train_tars && cd val && tar --format=posix -cf "
        "../../val.tar .");
    ASSERT_EQ(packed.exit_code, 0) << packed.output;
    const fs::path labels = corpus / "LOC_val_solution.csv";

    const auto from_folders = convert(corpus / "train", corpus / "val", labels, dir / "folders");
    ASSERT_EQ(from_folders.exit_code, 0) << from_folders.output;
    const auto from_tars = convert(corpus / "train_tars", corpus / "val", labels, dir / "tars");
    ASSERT_EQ(from_tars.exit_code, 0) << from_tars.output;
    const auto from_archives =
        convert(dir / "train.tar", dir / "val.tar", labels, dir / "archives");
    ASSERT_EQ(from_archives.exit_code, 0) << from_archives.output;

    expect_same_shards(dir / "folders", dir / "tars");
    expect_same_shards(dir / "folders", dir / "archives");
    const auto manifest = read_json(dir / "archives" / "manifest.json");
    EXPECT_TRUE(manifest.at("rejected").empty()) << manifest.at("rejected").dump(2);

    // A rerun of the same archives is already complete: the resume fingerprint is stable.
    const auto again = convert(dir / "train.tar", dir / "val.tar", labels, dir / "archives");
    EXPECT_EQ(again.exit_code, 0) << again.output;
}

// The reasons of the manifest's rejections whose key or detail holds `needle`, and that
// at least one detail holds `also` too.
void expect_archive_error(const nlohmann::json& manifest, const std::string& needle,
                          const std::string& also) {
    const auto reasons = rejected_reasons(manifest, needle);
    EXPECT_FALSE(reasons.empty()) << needle << " not rejected:\n" << manifest["rejected"].dump(2);
    for (const auto& reason : reasons) EXPECT_EQ(reason, "archive-error") << needle;
    const auto& rejected = manifest.at("rejected");
    EXPECT_TRUE(std::any_of(rejected.begin(), rejected.end(),
                            [&](const nlohmann::json& entry) {
                                const auto detail = entry.at("detail").get<std::string>();
                                return (entry.at("key").get<std::string>().find(needle) !=
                                            std::string::npos ||
                                        detail.find(needle) != std::string::npos) &&
                                       detail.find(also) != std::string::npos;
                            }))
        << needle << " / " << also << ":\n"
        << rejected.dump(2);
}

TEST(OuterArchive, HostileMembersAreEachAnArchiveErrorNamingTheMemberAndTheRestConverts) {
    TempDir dir;
    const fs::path corpus = dir / "corpus";
    make_synth_corpus(corpus, 6, 5);
    const auto tars = synset_tars(corpus);
    ASSERT_EQ(tars.size(), 6U);
    const auto stem = [&](std::size_t i) { return tars[i].stem().string(); };
    const auto images = [&](std::size_t i) {
        auto found = files_ending_with(corpus / "train" / stem(i), ".JPEG");
        std::sort(found.begin(), found.end());
        return found;
    };
    const std::string good0 = read_text(tars[0]);
    const std::string good1 = read_text(tars[1]);
    // Inner tar 2 is cut inside its second header; 3 declares a member past its own end;
    // 4 holds a tar; 5 is fine but cut off by the end of the outer file.
    const std::string first_of_2 = read_text(images(2).at(0));
    const fs::path two_images = dir / "two.tar";
    write_tar(two_images, {{images(2).at(0).filename().string(), first_of_2},
                           {images(2).at(1).filename().string(), read_text(images(2).at(1))}});
    const std::string truncated =
        read_text(two_images).substr(0, 512 + (first_of_2.size() + 511) / 512 * 512 + 100);
    const std::string past_end = raw_tar_header(stem(3) + "_1.JPEG", 1 << 20) +
                                 std::string(512, 'x') + std::string(1024, '\0');
    const fs::path nested_source = dir / "nested.tar";
    write_tar(nested_source, {{images(4).at(0).filename().string(), read_text(images(4).at(0))},
                              {"deeper.tar", good0}});
    const fs::path outer = dir / "train.tar";
    write_tar(outer, {{"train/" + stem(0) + ".tar", good0},
                      {"train/README.txt", "not a tar"},
                      {"train/" + stem(1) + ".tar", good1},
                      {"other/" + stem(1) + ".tar", good0},
                      {"train/" + stem(2) + ".tar", truncated},
                      {"train/" + stem(3) + ".tar", past_end},
                      {"train/" + stem(4) + ".tar", read_text(nested_source)},
                      {"train/" + stem(5) + ".tar", read_text(tars[5])}});
    // The outer tar ends inside the last inner tar's data (its header starts with its name).
    const auto last_header = read_text(outer).find("train/" + stem(5) + ".tar");
    ASSERT_NE(last_header, std::string::npos);
    truncate_file(outer, last_header + 512 + read_text(tars[5]).size() / 2);

    const fs::path out = dir / "out";
    std::vector<std::string> args{"convert", "--input", outer.string(), "--output", out.string()};
    args.insert(args.end(), kCommonOptions.begin(), kCommonOptions.end());
    const auto result = run_synshard(args);
    ASSERT_EQ(result.exit_code, 3) << result.output;
    const auto manifest = read_json(out / "manifest.json");
    expect_archive_error(manifest, "train/README.txt", "not a tar");
    expect_archive_error(manifest, "other/" + stem(1) + ".tar", "train/" + stem(1) + ".tar");
    expect_archive_error(manifest, "train/" + stem(2) + ".tar", "truncated");
    expect_archive_error(manifest, "train/" + stem(3) + ".tar", stem(3) + "_1.JPEG");
    expect_archive_error(manifest, "deeper.tar", "nested");
    expect_archive_error(manifest, "train/" + stem(5) + ".tar", "past the end");

    // The rest converted: synsets 0 and 1 whole (1 from its first copy), 2's first image,
    // listed before the cut, and 4's image beside the nested tar.
    std::size_t whole = 0;
    for (const std::size_t i : {0U, 1U}) {
        for (const auto& entry : fs::directory_iterator(corpus / "train" / stem(i))) {
            whole += entry.is_regular_file() ? 1 : 0;
        }
    }
    EXPECT_EQ(manifest["splits"]["train"]["num_samples"].get<std::uint64_t>(), whole + 2)
        << manifest["rejected"].dump(2);
    const auto verified = run_synshard({"verify", out.string()});
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

}  // namespace
}  // namespace synshard::testing
