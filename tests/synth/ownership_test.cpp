// Regenerating a synth corpus removes only what synth can prove it wrote: the entries of
// the corpus's synth-files.txt. Anything else anywhere in the tree stops the run first.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "support/test_support.hpp"
#include "synshard/util/fs.hpp"

namespace synshard {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

using testing::read_text;

testing::ProcessResult synth(const fs::path& output, std::vector<std::string> extra = {},
                             const std::string& classes = "2") {
    std::vector<std::string> args{"synth",
                                  "--output",
                                  output.string(),
                                  "--num-classes",
                                  classes,
                                  "--per-class",
                                  "3",
                                  "--val-per-class",
                                  "1",
                                  "--image-size",
                                  "48x48"};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::run_synshard(args);
}

std::string first_class(const fs::path& corpus) {
    std::set<std::string> wnids;
    for (const auto& entry : fs::directory_iterator(corpus / "train"))
        wnids.insert(entry.path().filename());
    return *wnids.begin();
}

// Every entry under root as synth-files.txt names it: relative, '/'-separated, folders
// ending in '/'; symbolic links not followed.
std::set<std::string> tree_of(const fs::path& root) {
    std::set<std::string> entries;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        const bool folder = entry.symlink_status().type() == fs::file_type::directory;
        entries.insert(entry.path().lexically_relative(root).generic_string() +
                       (folder ? "/" : ""));
    }
    return entries;
}

std::set<std::string> listed_in(const fs::path& corpus) {
    std::set<std::string> listed;
    std::istringstream lines(read_text(corpus / "synth-files.txt"));
    for (std::string line; std::getline(lines, line);) listed.insert(line);
    return listed;
}

void expect_refused_naming(const testing::ProcessResult& result, const std::string& name) {
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_NE(result.output.find(name), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("synth did not write"), std::string::npos) << result.output;
}

TEST(SynthOwnership, AUsersFileInsideAClassFolderSurvivesARerunThatNamesIt) {
    TempDir dir;
    const fs::path corpus = dir / "corpus";
    ASSERT_EQ(synth(corpus).exit_code, 0);
    const std::string mine = "train/" + first_class(corpus) + "/notes.txt";
    std::ofstream(corpus / mine) << "mine";

    expect_refused_naming(synth(corpus), mine);
    EXPECT_EQ(read_text(corpus / mine), "mine");
    EXPECT_TRUE(fs::exists(corpus / "synth.json")) << "nothing is removed on refusal";
}

TEST(SynthOwnership, AUsersEmptyFolderOrLinkDeepInTheTreeIsRefusedAndKept) {
    TempDir dir;
    const fs::path corpus = dir / "corpus";
    ASSERT_EQ(synth(corpus).exit_code, 0);
    fs::create_directory(corpus / "val" / "mine");
    expect_refused_naming(synth(corpus), "val/mine");
    EXPECT_TRUE(fs::is_directory(corpus / "val" / "mine"));

    // A link is named, not followed: what it points to is never looked into or removed.
    fs::remove(corpus / "val" / "mine");
    fs::create_directories(dir / "elsewhere");
    std::ofstream(dir / "elsewhere" / "kept.txt") << "kept";
    const std::string link = "Annotation/" + first_class(corpus) + "/linked";
    fs::create_directory_symlink(dir / "elsewhere", corpus / link);
    expect_refused_naming(synth(corpus), link);
    EXPECT_TRUE(fs::is_symlink(corpus / link));
    EXPECT_EQ(read_text(dir / "elsewhere" / "kept.txt"), "kept");
}

TEST(SynthOwnership, AQuirksCorpusListsEveryEntryItHoldsAndRegeneratesCleanly) {
    TempDir dir;
    const fs::path corpus = dir / "corpus";
    ASSERT_EQ(synth(corpus, {"--quirks"}).exit_code, 0);
    const auto tree = tree_of(corpus);
    EXPECT_EQ(listed_in(corpus), tree);
    EXPECT_TRUE(tree.count("synth-files.txt"));
    EXPECT_TRUE(tree.count("train/" + first_class(corpus) + "/"));
    EXPECT_TRUE(std::any_of(tree.begin(), tree.end(),
                            [](const std::string& path) { return path.ends_with("/.DS_Store"); }));

    const auto again = synth(corpus, {"--quirks"});
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_EQ(tree_of(corpus), tree);
    const auto fewer = synth(corpus, {}, "1");
    EXPECT_EQ(fewer.exit_code, 0) << fewer.output;
    EXPECT_EQ(listed_in(corpus), tree_of(corpus));
    EXPECT_FALSE(fs::exists(corpus / "quirks.json"));
    EXPECT_FALSE(fs::exists(dir / "corpus.tmp"));
}

// A crash leaves "<output>.tmp" with a list covering what it holds.
TEST(SynthOwnership, ACrashedStagingDirIsRemovedOnlyWhenItHoldsNothingForeign) {
    TempDir dir;
    const fs::path staging = dir / "corpus.tmp";
    ASSERT_EQ(synth(dir / "crashed").exit_code, 0);
    fs::rename(dir / "crashed", staging);
    const std::string mine = "train/" + first_class(staging) + "/mine.JPEG";
    std::ofstream(staging / mine) << "mine";

    expect_refused_naming(synth(dir / "corpus"), mine);
    EXPECT_EQ(read_text(staging / mine), "mine");
    EXPECT_FALSE(fs::exists(dir / "corpus"));

    // Without it, a staging dir that lost some listed files (the crash came before them)
    // is removed and the corpus written.
    fs::remove(staging / mine);
    fs::remove(staging / "LOC_synset_mapping.txt");
    fs::remove_all(staging / "val");
    const auto result = synth(dir / "corpus");
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_FALSE(fs::exists(staging));
    EXPECT_TRUE(fs::exists(dir / "corpus" / "LOC_synset_mapping.txt"));
}

TEST(SynthOwnership, ACorpusWithoutTheListIsForeignUnlessEmpty) {
    TempDir dir;
    const fs::path corpus = dir / "corpus";
    ASSERT_EQ(synth(corpus).exit_code, 0);
    fs::remove(corpus / "synth-files.txt");  // as an older synth left it
    const auto result = synth(corpus);
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_NE(result.output.find("synth-files.txt"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("older synth"), std::string::npos) << result.output;
    EXPECT_TRUE(fs::exists(corpus / "synth.json"));

    fs::create_directory(dir / "empty");
    EXPECT_EQ(synth(dir / "empty").exit_code, 0);
    EXPECT_EQ(listed_in(dir / "empty"), tree_of(dir / "empty"));
}

}  // namespace
}  // namespace synshard
