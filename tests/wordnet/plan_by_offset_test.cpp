#include <gtest/gtest.h>

#include <set>
#include <string>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/util/fs.hpp"
#include "wordnet/data_noun_fixture.hpp"

namespace synshard::wordnet {
namespace {

// The plan's JSON as text, with the WordNet path it names (in "wordnet" and in the
// details of unknown-class rejects) replaced by WORDNET.
std::string plan_text(const std::filesystem::path& json, const std::string& wordnet_path) {
    const auto bytes = read_file(json);
    std::string text(bytes.begin(), bytes.end());
    for (auto at = text.find(wordnet_path); at != std::string::npos;
         at = text.find(wordnet_path, at))
        text.replace(at, wordnet_path.size(), "WORDNET");
    return text;
}

TEST(PlanByOffset, ReadsOnlyTheClassesTheirAncestorsAndTheFolderNamesOfDataNoun) {
    testing::TempDir dir;
    testing::make_quirky_corpus(dir.path());
    // Folders named like synsets: past the end of data.noun, inside tabby's record, and
    // tabby but for the case ("did you mean n02123045/?").
    for (const char* folder : {"n99999999", "n02123046", "N02123045"})
        testing::write_bytes(dir / "dirs" / folder / "a.JPEG", testing::image_bytes("a", 300));
    // The four folder classes (one too small to keep) and their ancestors.
    const std::vector<std::string> classes(testing::fixture_wnids().begin(),
                                           testing::fixture_wnids().begin() + 4);
    std::set<std::string> needed;
    for (const auto& node : Hierarchy::load_default().sub_dag(classes).nodes)
        needed.insert(node.wnid);
    testing::write_data_noun_keeping(dir / "wordnet" / "data.noun", needed);

    const auto plan = [&](const std::string& json, std::vector<std::string> wordnet) {
        std::vector<std::string> args{"plan",
                                      "--input",
                                      (dir / "dirs").string(),
                                      "--val-input",
                                      (dir / "val").string(),
                                      "--val-labels",
                                      (dir / "LOC_val_solution.csv").string(),
                                      "--min-per-class",
                                      "4",
                                      "--json",
                                      (dir / json).string()};
        args.insert(args.end(), wordnet.begin(), wordnet.end());
        return testing::run_synshard(args);
    };
    const auto whole = plan("whole.json", {});
    EXPECT_EQ(whole.exit_code, 3) << whole.output;  // the quirks are rejected
    const auto part = plan("part.json", {"--wordnet", (dir / "wordnet").string()});
    EXPECT_EQ(part.exit_code, 3) << part.output;
    const std::string expected =
        plan_text(dir / "whole.json", std::string(kDefaultWordnetDir) + "/data.noun");
    EXPECT_NE(expected.find("n99999999 is not a WordNet noun synset (WORDNET)"), std::string::npos);
    EXPECT_NE(expected.find("did you mean n02123045/?"), std::string::npos);
    EXPECT_EQ(plan_text(dir / "part.json", (dir / "wordnet" / "data.noun").string()), expected);
}

}  // namespace
}  // namespace synshard::wordnet
