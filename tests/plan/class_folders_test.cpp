// Issue 14, items 6 and 10: what the corpus scan makes of folders and tars under --input
// that are not a synset WordNet knows (each image an `unknown-class` reject), and a run
// that selects no class at all (exit 1 "no classes selected" while planning).

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "corpus/corpus_fixture.hpp"
#include "faults/fault_support.hpp"
#include "support/test_support.hpp"
#include "synshard/corpus/listing.hpp"
#include "synshard/plan/selection.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::testing {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
}

// The synset folders of a synth train folder, sorted.
std::vector<std::string> wnids_in(const fs::path& train) {
    std::vector<std::string> wnids;
    for (const auto& entry : fs::directory_iterator(train)) {
        if (entry.is_directory()) wnids.push_back(entry.path().filename().string());
    }
    std::sort(wnids.begin(), wnids.end());
    return wnids;
}

// The first `count` image files of a class folder, sorted by name.
std::vector<fs::path> images_in(const fs::path& folder, std::size_t count) {
    std::vector<fs::path> images;
    for (const auto& entry : fs::directory_iterator(folder)) images.push_back(entry.path());
    std::sort(images.begin(), images.end());
    images.resize(std::min(count, images.size()));
    return images;
}

// Copies `count` images of `from` into the new folder `to`; returns their keys
// ("<folder name>/<file name>").
std::vector<std::string> add_folder(const fs::path& from, const fs::path& to, std::size_t count) {
    fs::create_directories(to);
    std::vector<std::string> keys;
    for (const auto& image : images_in(from, count)) {
        fs::copy_file(image, to / image.filename());
        keys.push_back(to.filename().string() + "/" + image.filename().string());
    }
    return keys;
}

// Writes `count` images of `from` as the tar `to` ("cats.tar"); returns their keys
// ("cats/<member>").
std::vector<std::string> add_tar(const fs::path& from, const fs::path& to, std::size_t count) {
    std::vector<TarMember> members;
    std::vector<std::string> keys;
    for (const auto& image : images_in(from, count)) {
        const auto bytes = read_file(image);
        members.emplace_back(image.filename().string(), std::string(bytes.begin(), bytes.end()));
        keys.push_back(to.stem().string() + "/" + image.filename().string());
    }
    write_tar(to, members);
    return keys;
}

// The `unknown-class` rejections of a manifest's or plan's `rejected` list: key -> detail.
std::map<std::string, std::string> unknown_class_rejects(const nlohmann::json& document) {
    std::map<std::string, std::string> found;
    for (const auto& rejection : document.at("rejected")) {
        if (rejection.at("reason") == "unknown-class")
            found[rejection.at("key").get<std::string>()] = rejection.at("detail");
    }
    return found;
}

std::string reason_of(const nlohmann::json& document, const std::string& key) {
    for (const auto& rejection : document.at("rejected")) {
        if (rejection.at("key") == key) return rejection.at("reason");
    }
    return "(not rejected)";
}

// The shards' paths and checksums, in split and shard order.
std::vector<std::string> shard_digests(const nlohmann::json& manifest) {
    std::vector<std::string> digests;
    for (const auto& [split, content] : manifest.at("splits").items()) {
        for (const auto& shard : content.at("shards"))
            digests.push_back(shard.at("path").get<std::string>() + " " +
                              shard.at("sha256").get<std::string>());
    }
    return digests;
}

std::vector<std::string> convert_args(const fs::path& input, const fs::path& output) {
    return {"convert", "--quiet", "--input", input.string(), "--output", output.string()};
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

// A synth train folder (copied from a clean one, kept for comparison) with three folders
// that are not synsets WordNet knows: `cats/`, the upper-case spelling of a real class of
// the corpus, and `n99999999/` (WordNet has no such synset).
struct CorpusWithStrayFolders {
    fs::path clean;
    fs::path train;
    std::vector<std::string> wnids;
    std::vector<std::string> cats, upper_case, unknown_wnid;  // the stray images' keys
    std::string upper_case_folder;

    CorpusWithStrayFolders(const TempDir& dir, int per_class, std::size_t per_folder)
        : clean(dir / "corpus" / "train"), train(dir / "train") {
        make_synth_corpus(dir / "corpus", 3, per_class);
        fs::copy(clean, train, fs::copy_options::recursive);
        wnids = wnids_in(clean);
        upper_case_folder = upper(wnids[1]);
        const fs::path images = clean / wnids[0];
        cats = add_folder(images, train / "cats", per_folder);
        upper_case = add_folder(images, train / upper_case_folder, per_folder);
        unknown_wnid = add_folder(images, train / "n99999999", per_folder);
    }

    std::size_t stray_images() const {
        return cats.size() + upper_case.size() + unknown_wnid.size();
    }
};

void expect_stray_images_rejected(const CorpusWithStrayFolders& corpus,
                                  const nlohmann::json& document) {
    const auto rejects = unknown_class_rejects(document);
    EXPECT_EQ(rejects.size(), corpus.stray_images()) << document.at("rejected").dump(1);
    for (const auto& key : corpus.cats) {
        ASSERT_EQ(rejects.count(key), 1u) << key;
        EXPECT_TRUE(contains(rejects.at(key), "cats/ is not a synset")) << rejects.at(key);
        EXPECT_FALSE(contains(rejects.at(key), "did you mean")) << rejects.at(key);
    }
    for (const auto& key : corpus.upper_case) {
        ASSERT_EQ(rejects.count(key), 1u) << key;
        EXPECT_TRUE(contains(rejects.at(key), corpus.upper_case_folder + "/")) << rejects.at(key);
        EXPECT_TRUE(contains(rejects.at(key), "did you mean " + corpus.wnids[1]))
            << rejects.at(key);
    }
    for (const auto& key : corpus.unknown_wnid) {
        ASSERT_EQ(rejects.count(key), 1u) << key;
        EXPECT_TRUE(contains(rejects.at(key), "n99999999/")) << rejects.at(key);
        EXPECT_TRUE(contains(rejects.at(key), "n99999999 is not a WordNet noun synset"))
            << rejects.at(key);
    }
}

TEST(ClassFolders, DiscoveryMakesFoldersAndTarsThatNameNoSynsetSourcesWithoutAClass) {
    TempDir dir;
    write_bytes(dir / "train" / "n01440764" / "a.JPEG", "a");
    write_bytes(dir / "train" / "cats" / "b.JPEG", "b");
    write_bytes(dir / "train" / "N01443537" / "c.JPEG", "c");
    write_tar(dir / "train" / "n99999999.tar", {{"d.JPEG", "d"}});
    write_bytes(dir / "train" / "README.txt", "not an image folder");
    const auto train = corpus::discover_train(dir / "train", default_wordnet());
    ASSERT_EQ(train.sources.size(), 4u);
    const auto& upper_case = train.sources[0];
    EXPECT_EQ(upper_case.name, "N01443537");
    EXPECT_EQ(upper_case.key_prefix, "N01443537/");
    EXPECT_TRUE(upper_case.wnid.empty());
    EXPECT_EQ(upper_case.no_class_detail,
              "N01443537/ is not a synset folder nXXXXXXXX/ (did you mean n01443537/?)");
    EXPECT_EQ(train.sources[1].name, "cats");
    EXPECT_EQ(train.sources[1].no_class_detail, "cats/ is not a synset folder nXXXXXXXX/");
    EXPECT_EQ(train.sources[2].wnid, "n01440764");
    EXPECT_TRUE(train.sources[2].no_class_detail.empty());
    const auto& unknown_wnid = train.sources[3];
    EXPECT_EQ(unknown_wnid.kind, corpus::Source::Kind::tar);
    EXPECT_EQ(unknown_wnid.key_prefix, "n99999999/");
    EXPECT_TRUE(contains(unknown_wnid.no_class_detail,
                         "n99999999.tar: n99999999 is not a WordNet noun synset"))
        << unknown_wnid.no_class_detail;
    ASSERT_EQ(train.rejected.size(), 1u);
    EXPECT_EQ(train.rejected[0].reason, Reason::unlabeled);  // a file has no class folder

    // A flat val folder stays flat with a stray sub-folder (a not-a-file entry of it);
    // one in synset folders lists its stray folders like the train root's.
    write_bytes(dir / "flat" / "ILSVRC2012_val_00000001.JPEG", "1");
    write_bytes(dir / "flat" / "extras" / "e.JPEG", "e");
    const auto flat = corpus::discover_val(dir / "flat", default_wordnet());
    ASSERT_EQ(flat.sources.size(), 1u);
    EXPECT_EQ(flat.sources[0].name, "val");
    write_bytes(dir / "prep" / "n01440764" / "ILSVRC2012_val_00000002.JPEG", "2");
    write_bytes(dir / "prep" / "cats" / "ILSVRC2012_val_00000003.JPEG", "3");
    const auto prep = corpus::discover_val(dir / "prep", default_wordnet());
    ASSERT_EQ(prep.sources.size(), 2u);
    EXPECT_EQ(prep.sources[0].name, "val/cats");
    EXPECT_EQ(prep.sources[0].key_prefix, "val/");
    EXPECT_EQ(prep.sources[0].no_class_detail, "val/cats/ is not a synset folder nXXXXXXXX/");
}

TEST(ClassFolders, NoClassSelectedSaysWhichCountsLedThere) {
    const auto message = [](const std::map<std::string, std::uint64_t>& counts,
                            const std::optional<std::vector<std::string>>& class_list,
                            std::uint64_t min_per_class, std::size_t without_class) {
        const auto selection = plan::select_classes(counts, class_list, min_per_class,
                                                    corpus::LabelScheme::sorted, nullptr);
        try {
            plan::require_train_images(selection, counts, class_list, min_per_class, "IN",
                                       without_class);
        } catch (const Error& error) {
            return std::string(error.what());
        }
        return std::string("(selected)");
    };
    EXPECT_EQ(message({}, std::nullopt, 1, 0),
              "no classes selected: --input IN holds no synset folder nXXXXXXXX/ or tar "
              "nXXXXXXXX.tar (0 classes found)");
    EXPECT_EQ(message({}, std::nullopt, 1, 2),
              "no classes selected: --input IN holds no synset folder nXXXXXXXX/ or tar "
              "nXXXXXXXX.tar (0 classes found; 2 folders or tars named after no WordNet noun "
              "synset)");
    const std::map<std::string, std::uint64_t> counts{
        {"n01440764", 12}, {"n01443537", 3}, {"n01484850", 0}};
    EXPECT_EQ(message(counts, std::nullopt, 100, 0),
              "no classes selected: 3 classes found in --input IN, all under --min-per-class 100 "
              "(the largest has 12 train images)");
    EXPECT_EQ(message(counts, std::vector<std::string>{"n02085620"}, 1, 0),
              "no classes selected: 3 classes found in --input IN, but the 1 class listed in "
              "--classes has no train image there");
    EXPECT_EQ(message(counts, std::vector<std::string>{"n01443537", "n01484850"}, 5, 0),
              "no classes selected: 3 classes found in --input IN, the 2 classes listed in "
              "--classes are all under --min-per-class 5 (the largest has 3 train images)");
    // Keeping empty classes (--min-per-class 0) still selects nothing to convert.
    EXPECT_EQ(message({{"n01484850", 0}}, std::nullopt, 0, 0),
              "no classes selected: 1 class found in --input IN, none with a train image");
    EXPECT_EQ(message(counts, std::nullopt, 3, 0), "(selected)");
}

TEST(ClassFolders, EachImageOfAFolderThatIsNotASynsetIsAnUnknownClassReject) {
    TempDir dir;
    const CorpusWithStrayFolders corpus(dir, 8, 3);
    // A sub-folder in such a folder is what a sub-folder in a synset folder is.
    add_folder(corpus.clean / corpus.wnids[0], corpus.train / "cats" / "nested", 1);

    const auto clean = run_synshard(convert_args(corpus.clean, dir / "clean_out"));
    ASSERT_EQ(clean.exit_code, 0) << clean.output;
    const auto strays =
        run_synshard(with(convert_args(corpus.train, dir / "out"), {"--max-reject-fraction", "1"}));
    ASSERT_EQ(strays.exit_code, 3) << strays.output;

    const auto expected = read_json(dir / "clean_out" / "manifest.json");
    const auto manifest = read_json(dir / "out" / "manifest.json");
    expect_stray_images_rejected(corpus, manifest);
    EXPECT_EQ(reason_of(manifest, "cats/nested"), "not-a-file");
    // The synsets convert as they do without the stray folders: same classes, labels,
    // counts, and byte-identical shards.
    EXPECT_EQ(manifest.at("classes"), expected.at("classes"));
    EXPECT_EQ(shard_digests(manifest), shard_digests(expected));
    EXPECT_EQ(manifest.at("rejected").size(),
              expected.at("rejected").size() + corpus.stray_images() + 1);

    // Two ranks list the folders apart and agree on every reject and shard.
    const auto two_ranks = run_synshard_mpi(
        2, with(convert_args(corpus.train, dir / "out2"), {"--max-reject-fraction", "1"}));
    ASSERT_EQ(two_ranks.exit_code, 3) << two_ranks.output;
    const auto manifest2 = read_json(dir / "out2" / "manifest.json");
    EXPECT_EQ(manifest2.at("rejected"), manifest.at("rejected"));
    EXPECT_EQ(manifest2.at("classes"), expected.at("classes"));
    EXPECT_EQ(manifest2.at("input_fingerprint"), manifest.at("input_fingerprint"));
    EXPECT_EQ(shard_digests(manifest2), shard_digests(expected));
}

TEST(ClassFolders, EachMemberOfATarThatIsNotASynsetIsAnUnknownClassReject) {
    TempDir dir;
    make_synth_corpus(dir / "corpus", 3, 6);
    const fs::path clean = dir / "corpus" / "train_tars";
    const fs::path tars = dir / "train_tars";
    fs::copy(clean, tars, fs::copy_options::recursive);
    const auto wnids = wnids_in(dir / "corpus" / "train");
    const fs::path images = dir / "corpus" / "train" / wnids[0];
    const auto cats = add_tar(images, tars / "cats.tar", 2);
    const auto upper_case = add_tar(images, tars / (upper(wnids[2]) + ".tar"), 2);
    const auto unknown_wnid = add_tar(images, tars / "n99999999.tar", 2);

    const auto expected =
        run_synshard({"plan", "--input", clean.string(), "--json", (dir / "clean.json").string()});
    ASSERT_EQ(expected.exit_code, 0) << expected.output;
    const auto planned =
        run_synshard({"plan", "--input", tars.string(), "--json", (dir / "plan.json").string()});
    ASSERT_EQ(planned.exit_code, 3) << planned.output;
    const auto plan = read_json(dir / "plan.json");
    const auto rejects = unknown_class_rejects(plan);
    EXPECT_EQ(rejects.size(), 6u) << plan.at("rejected").dump(1);
    for (const auto& key : cats) EXPECT_TRUE(contains(rejects.at(key), "cats.tar")) << key;
    for (const auto& key : upper_case) {
        EXPECT_TRUE(contains(rejects.at(key), upper(wnids[2]) + ".tar")) << rejects.at(key);
        EXPECT_TRUE(contains(rejects.at(key), "did you mean " + wnids[2])) << rejects.at(key);
    }
    for (const auto& key : unknown_wnid) {
        EXPECT_TRUE(contains(rejects.at(key), "n99999999 is not a WordNet noun synset"))
            << rejects.at(key);
    }
    EXPECT_EQ(plan.at("rejected_counts").at("unknown-class"), 6);
    const auto clean_plan = read_json(dir / "clean.json");
    EXPECT_EQ(plan.at("classes"), clean_plan.at("classes"));
    EXPECT_EQ(plan.at("scanned"), clean_plan.at("scanned").get<std::uint64_t>() + 6);
}

TEST(ClassFolders, ImagesOfFoldersThatAreNotSynsetsCountTowardsTheRejectFraction) {
    TempDir dir;
    // About 60 images in the synsets: two stray folders as two rejects would stay under
    // the default 5%; their 20 images do not.
    make_synth_corpus(dir / "corpus", 3, 20);
    const fs::path train = dir / "train";
    fs::copy(dir / "corpus" / "train", train, fs::copy_options::recursive);
    const auto wnids = wnids_in(train);
    add_folder(train / wnids[0], train / "cats", 10);
    add_folder(train / wnids[0], train / upper(wnids[1]), 10);

    const auto result = run_synshard(convert_args(train, dir / "out"));
    EXPECT_EQ(result.exit_code, 1) << result.output;
    EXPECT_TRUE(contains(result.output, "--max-reject-fraction")) << result.output;
    EXPECT_TRUE(files_ending_with(dir / "out", ".h5").empty());
}

TEST(ClassFolders, ImagesOfFoldersThatAreNotSynsetsEnterTheInputFingerprint) {
    TempDir dir;
    const CorpusWithStrayFolders corpus(dir, 4, 2);
    const auto plan_json = [&](const std::string& name) {
        const auto result = run_synshard(
            {"plan", "--input", corpus.train.string(), "--json", (dir / name).string()});
        EXPECT_EQ(result.exit_code, 3) << result.output;
        return read_json(dir / name);
    };
    const auto before = plan_json("before.json");
    expect_stray_images_rejected(corpus, before);
    write_bytes(corpus.train / "cats" / "one_more.JPEG", "not even an image");
    const auto after = plan_json("after.json");
    EXPECT_NE(after.at("input_fingerprint"), before.at("input_fingerprint"));
    EXPECT_EQ(unknown_class_rejects(after).size(), corpus.stray_images() + 1);
}

TEST(ClassFolders, AnEmptyInputSelectsNoClassAndFailsBeforeProcessing) {
    TempDir dir;
    fs::create_directories(dir / "empty");
    const auto plan = run_synshard({"plan", "--input", (dir / "empty").string()});
    EXPECT_EQ(plan.exit_code, 1) << plan.output;
    EXPECT_TRUE(contains(plan.output, "no classes selected")) << plan.output;
    EXPECT_TRUE(contains(plan.output, "0 classes found")) << plan.output;

    const auto convert = run_synshard(convert_args(dir / "empty", dir / "out"));
    EXPECT_EQ(convert.exit_code, 1) << convert.output;
    EXPECT_TRUE(contains(convert.output, "no classes selected")) << convert.output;
    EXPECT_TRUE(files_ending_with(dir / "out", ".h5").empty());

    // Folders that are not synsets are no class either, and the message says so.
    write_bytes(dir / "only_cats" / "cats" / "tabby.JPEG", "never decoded");
    const auto cats = run_synshard_mpi(2, {"plan", "--input", (dir / "only_cats").string()});
    EXPECT_EQ(cats.exit_code, 1) << cats.output;
    EXPECT_TRUE(contains(cats.output, "no classes selected")) << cats.output;
    EXPECT_TRUE(contains(cats.output, "named after no WordNet noun synset")) << cats.output;
}

TEST(ClassFolders, MinPerClassAboveEveryClassSelectsNoClassAndFailsBeforeProcessing) {
    TempDir dir;
    make_synth_corpus(dir / "corpus", 3, 6);
    const fs::path train = dir / "corpus" / "train";
    const auto check = [&](const ProcessResult& result) {
        EXPECT_EQ(result.exit_code, 1) << result.output;
        EXPECT_TRUE(contains(result.output, "no classes selected: 3 classes found"))
            << result.output;
        EXPECT_TRUE(contains(result.output, "--min-per-class 1000")) << result.output;
        EXPECT_TRUE(contains(result.output, "the largest has")) << result.output;
        EXPECT_FALSE(contains(result.output, "reject check")) << result.output;
    };
    check(run_synshard({"plan", "--input", train.string(), "--min-per-class", "1000"}));
    check(run_synshard_mpi(2, {"plan", "--input", train.string(), "--min-per-class", "1000"}));
    check(run_synshard(with(convert_args(train, dir / "out"), {"--min-per-class", "1000"})));
    EXPECT_TRUE(files_ending_with(dir / "out", ".h5").empty());
}

TEST(ClassFolders, ClassesFileThatNamesNoClassOfTheInputSelectsNoClass) {
    TempDir dir;
    make_synth_corpus(dir / "corpus", 3, 6);
    write_bytes(dir / "classes.txt", "n02085620\n");  // Chihuahua: not in the corpus
    const auto result = run_synshard({"plan", "--input", (dir / "corpus" / "train").string(),
                                      "--classes", (dir / "classes.txt").string()});
    EXPECT_EQ(result.exit_code, 1) << result.output;
    EXPECT_TRUE(contains(result.output, "no classes selected: 3 classes found")) << result.output;
    EXPECT_TRUE(contains(result.output, "--classes")) << result.output;
}

}  // namespace
}  // namespace synshard::testing
