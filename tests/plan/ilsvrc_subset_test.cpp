// --label-scheme ilsvrc2012-id on a corpus holding two of the devkit's 1000 classes, with
// the real binary: the class table is the devkit's whole table, whatever the corpus holds
// and whichever form the devkit comes in.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/reader/index_reader.hpp"
#include "synshard/reader/shard_reader.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::plan {
namespace {

namespace fs = std::filesystem;
using testing::run_shell;
using testing::run_synshard;
using testing::run_synshard_mpi;

nlohmann::json read_json(const fs::path& path) {
    const auto bytes = read_file(path);
    return nlohmann::json::parse(bytes.begin(), bytes.end());
}

// One synth JPEG each of tench (ILSVRC2012_ID 449) and sea snake (ID 490), and the
// devkit in each of its forms.
class IlsvrcSubset : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new testing::TempDir();
        const fs::path synth = *dir_ / "synth";
        const auto made = run_synshard({"synth", "--output", synth.string(), "--num-classes", "4",
                                        "--per-class", "2", "--val-per-class", "0", "--seed", "3"});
        ASSERT_EQ(made.exit_code, 0) << made.output;
        for (const std::string wnid : {"n01440764", "n01751748"}) {
            const auto first = *fs::directory_iterator(synth / "train" / wnid);
            fs::create_directories(train() / wnid);
            fs::copy_file(first.path(), train() / wnid / first.path().filename());
        }
        const auto entries = testing::ilsvrc_devkit_entries();
        testing::write_meta_mat(meta_mat() / "data" / "meta.mat", entries);
        testing::write_meta_mat(*dir_ / "clsloc" / "data" / "meta_clsloc.mat", entries,
                                "ILSVRC2014_ID");
        testing::write_map_clsloc(*dir_ / "map" / "data" / "map_clsloc.txt", entries);
        testing::write_meta_mat(*dir_ / "ILSVRC2012_devkit_t12" / "data" / "meta.mat", entries);
        const auto packed = run_shell("cd '" + dir_->path().string() +
                                      "' && tar czf ILSVRC2012_devkit_t12.tar.gz "
                                      "ILSVRC2012_devkit_t12");
        ASSERT_EQ(packed.exit_code, 0) << packed.output;
    }
    static void TearDownTestSuite() { delete dir_; }

    static fs::path train() { return *dir_ / "train"; }
    static fs::path meta_mat() { return *dir_ / "devkit"; }
    static fs::path archive() { return *dir_ / "ILSVRC2012_devkit_t12.tar.gz"; }

    static std::vector<std::string> args(const std::string& command, const fs::path& devkit) {
        return {command,         "--input",        train().string(), "--devkit",
                devkit.string(), "--label-scheme", "ilsvrc2012-id"};
    }

    static testing::TempDir* dir_;
};

testing::TempDir* IlsvrcSubset::dir_ = nullptr;

TEST_F(IlsvrcSubset, ConvertsAtOneAndTwoRanksWithTheDevkitsWholeClassTable) {
    for (const int ranks : {1, 2}) {
        SCOPED_TRACE(std::to_string(ranks) + " rank(s)");
        const fs::path out = *dir_ / ("out-" + std::to_string(ranks));
        auto convert = args("convert", meta_mat());
        convert.insert(convert.end(), {"--output", out.string(), "--quiet"});
        const auto run = ranks == 1 ? run_synshard(convert) : run_synshard_mpi(ranks, convert);
        ASSERT_EQ(run.exit_code, 0) << run.output;
        const auto verified = run_synshard({"verify", out.string()});
        EXPECT_EQ(verified.exit_code, 0) << verified.output;

        const reader::IndexReader index(out / "index.h5");
        const auto table = index.read_class_table();
        ASSERT_EQ(table.classes.size(), 1000u);
        EXPECT_EQ(table.classes[448].synset, "n01440764");
        EXPECT_EQ(table.classes[489].synset, "n01751748");
        EXPECT_EQ(index.read_hierarchy().class_nodes.size(), 1000u);
        std::map<std::string, std::int32_t> labels;
        for (const auto& shard_path : index.shard_paths("train")) {
            const reader::ShardReader shard(out / shard_path);
            EXPECT_EQ(shard.read_class_table().classes.size(), 1000u);
            for (std::uint64_t row = 0; row < shard.num_samples(); ++row) {
                const auto sample = shard.read_metadata(row);
                labels[sample.synset] = sample.label;
            }
        }
        EXPECT_EQ(labels,
                  (std::map<std::string, std::int32_t>{{"n01440764", 448}, {"n01751748", 489}}));
        const auto manifest = read_json(out / "manifest.json");
        ASSERT_EQ(manifest["classes"].size(), 1000u);
        EXPECT_EQ(manifest["classes"][448]["counts"]["train"], 1);
        EXPECT_EQ(manifest["classes"][0]["counts"]["train"], 0);
    }
}

TEST_F(IlsvrcSubset, PlanPrintsTheWholeTableAndEveryDevkitFormGivesTheSameLabels) {
    auto plan = args("plan", meta_mat());
    plan.insert(plan.end(), {"--json", (*dir_ / "meta.json").string()});
    const auto reference = run_synshard(plan);
    ASSERT_EQ(reference.exit_code, 0) << reference.output;
    for (const char* text : {"classes: 1000 (label scheme ilsvrc2012-id", "2 with train images",
                             "ILSVRC2012_ID", "images: train 2, val 0"}) {
        EXPECT_NE(reference.output.find(text), std::string::npos) << text << " in\n"
                                                                  << reference.output;
    }
    const auto classes = read_json(*dir_ / "meta.json")["classes"];
    ASSERT_EQ(classes.size(), 1000u);
    EXPECT_EQ(classes[448]["synset"], "n01440764");
    EXPECT_EQ(classes[448]["ilsvrc2012_id"], 449);
    EXPECT_EQ(classes[489]["counts"]["train"], 1);

    // The archive's member is unpacked into a private folder of TMPDIR, removed after.
    const fs::path tmp = *dir_ / "tmp";
    fs::create_directories(tmp);
    ASSERT_EQ(::setenv("TMPDIR", tmp.c_str(), 1), 0);
    const std::vector<std::pair<fs::path, std::string>> forms{
        {*dir_ / "clsloc", "ILSVRC2014_ID"},
        {*dir_ / "map" / "data" / "map_clsloc.txt", "map_clsloc.txt"},
        {archive(), "ILSVRC2012_ID"}};
    for (const auto& [devkit, id_source] : forms) {
        SCOPED_TRACE(devkit.string());
        auto form = args("plan", devkit);
        form.insert(form.end(), {"--json", (*dir_ / "form.json").string()});
        const auto run = run_synshard(form);
        ASSERT_EQ(run.exit_code, 0) << run.output;
        EXPECT_NE(run.output.find(id_source), std::string::npos) << run.output;
        EXPECT_EQ(read_json(*dir_ / "form.json")["classes"], classes);
        EXPECT_TRUE(fs::is_empty(tmp));
    }
    ::unsetenv("TMPDIR");
}

TEST_F(IlsvrcSubset, TheGroundTruthBesideTheDevkitsClassFileLabelsAFlatValFolder) {
    const fs::path val = *dir_ / "val";
    const auto jpeg = *fs::directory_iterator(train() / "n01440764");
    for (const char* name : {"ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000002.JPEG"}) {
        fs::create_directories(val);
        fs::copy_file(jpeg.path(), val / name);
    }
    testing::write_bytes(meta_mat() / "data" / "ILSVRC2012_validation_ground_truth.txt",
                         "449\n490\n");
    for (const fs::path& devkit : {meta_mat(), meta_mat() / "data" / "meta.mat"}) {
        SCOPED_TRACE(devkit.string());
        auto plan = args("plan", devkit);
        plan.insert(plan.end(),
                    {"--val-input", val.string(), "--json", (*dir_ / "val.json").string()});
        const auto run = run_synshard(plan);
        ASSERT_EQ(run.exit_code, 0) << run.output;
        const auto classes = read_json(*dir_ / "val.json")["classes"];
        EXPECT_EQ(classes[448]["counts"]["val"], 1);
        EXPECT_EQ(classes[489]["counts"]["val"], 1);
    }
}

TEST_F(IlsvrcSubset, ARerunSeesTheDevkitArchivesMemberChanged) {
    const fs::path devkit = *dir_ / "rerun" / "ILSVRC2012_devkit_t12.tar.gz";
    fs::create_directories(devkit.parent_path());
    fs::copy_file(archive(), devkit);
    const fs::path out = *dir_ / "out-rerun";
    auto convert = args("convert", devkit);
    convert.insert(convert.end(), {"--output", out.string(), "--quiet"});
    const auto first = run_synshard(convert);
    ASSERT_EQ(first.exit_code, 0) << first.output;
    const auto again = run_synshard(convert);
    EXPECT_EQ(again.exit_code, 0) << again.output;

    // The same classes with other words: the labels stay, the devkit's bytes do not.
    auto entries = testing::ilsvrc_devkit_entries();
    entries.front().words = "renamed";
    const fs::path repacked = *dir_ / "rerun" / "ILSVRC2012_devkit_t12";
    testing::write_meta_mat(repacked / "data" / "meta.mat", entries);
    const auto packed =
        run_shell("cd '" + devkit.parent_path().string() +
                  "' && tar czf ILSVRC2012_devkit_t12.tar.gz ILSVRC2012_devkit_t12");
    ASSERT_EQ(packed.exit_code, 0) << packed.output;
    const auto changed = run_synshard(convert);
    EXPECT_NE(changed.exit_code, 0) << changed.output;
    EXPECT_NE(changed.output.find("an input changed since the run that wrote this output: "
                                  "--devkit " +
                                  canonical_path(devkit).string()),
              std::string::npos)
        << changed.output;
}

}  // namespace
}  // namespace synshard::plan
