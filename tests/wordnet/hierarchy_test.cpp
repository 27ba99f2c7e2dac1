#include "synshard/wordnet/hierarchy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "support/text_variants.hpp"
#include "synshard/util/error.hpp"
#include "wordnet/data_noun_fixture.hpp"

namespace synshard::wordnet {
namespace {

const Hierarchy& wordnet30() {
    static const Hierarchy hierarchy = Hierarchy::load_default();
    return hierarchy;
}

bool contains(const std::vector<std::string>& list, const std::string& wnid) {
    return std::find(list.begin(), list.end(), wnid) != list.end();
}

TEST(Hierarchy, TabbyCatFromDataNoun) {
    const auto& tabby = wordnet30().synset("n02123045");
    EXPECT_EQ(tabby.words, "tabby, tabby cat");
    EXPECT_EQ(tabby.gloss, "a cat with a grey or tawny coat mottled with black");
    EXPECT_EQ(tabby.parents, std::vector<std::string>{"n02121808"});  // domestic cat
    EXPECT_TRUE(tabby.children.empty());
    const auto ancestors = wordnet30().ancestors("n02123045");
    EXPECT_TRUE(contains(ancestors, "n02121620"));  // cat
    EXPECT_TRUE(contains(ancestors, std::string(kRootWnid)));
    for (const auto& path : wordnet30().paths_to_root("n02123045")) {
        EXPECT_EQ(path.front(), "n02123045");
        EXPECT_EQ(path.back(), kRootWnid);
    }
}

TEST(Hierarchy, BarberChairHasOnePathThroughChair) {
    const auto paths = wordnet30().paths_to_root("n02791124");
    ASSERT_EQ(paths.size(), 1u);
    EXPECT_EQ(paths[0][1], "n03001627");  // chair
    EXPECT_EQ(wordnet30().synset("n03001627").words, "chair");
    EXPECT_EQ(wordnet30().depth("n02791124"), static_cast<int>(paths[0].size()) - 1);
    EXPECT_EQ(wordnet30().depth(std::string(kRootWnid)), 0);
    EXPECT_TRUE(contains(wordnet30().synset("n03001627").children, "n02791124"));
}

TEST(Hierarchy, DogHasTwoParentsAndTwoPaths) {
    const auto& dog = wordnet30().synset("n02084071");
    EXPECT_EQ(dog.words, "dog, domestic dog, Canis familiaris");
    EXPECT_EQ(dog.parents,
              (std::vector<std::string>{"n02083346", "n01317541"}));  // canine, domestic animal
    EXPECT_EQ(wordnet30().paths_to_root("n02084071").size(), 2u);
    EXPECT_EQ(wordnet30().depth("n02084071"), 8);  // via domestic animal, the shorter path
}

TEST(Hierarchy, SubDagHoldsAncestorsAndBothEdgesOfATwoParentNode) {
    const std::vector<std::string> classes{"n02084071", "n02123045"};
    const SubDag dag = wordnet30().sub_dag(classes);
    EXPECT_TRUE(std::is_sorted(dag.nodes.begin(), dag.nodes.end(),
                               [](const auto& a, const auto& b) { return a.wnid < b.wnid; }));
    const auto dog = dag.index_of("n02084071");
    std::vector<std::string> parents;
    for (const auto& [parent, child] : dag.edges) {
        if (child == dog) parents.push_back(dag.nodes[parent].wnid);
    }
    std::sort(parents.begin(), parents.end());
    EXPECT_EQ(parents, (std::vector<std::string>{"n01317541", "n02083346"}));
    EXPECT_EQ(dag.nodes[dag.index_of(std::string(kRootWnid))].depth, 0);
    // Every node but the root has a parent inside the sub-DAG.
    for (std::uint32_t i = 0; i < dag.nodes.size(); ++i) {
        if (dag.nodes[i].wnid == kRootWnid) continue;
        EXPECT_TRUE(std::any_of(dag.edges.begin(), dag.edges.end(), [&](const auto& edge) {
            return edge.second == i;
        })) << dag.nodes[i].wnid;
    }
}

TEST(Hierarchy, UnknownIdIsAnErrorNamingIt) {
    EXPECT_FALSE(wordnet30().contains("n99999999"));
    try {
        wordnet30().synset("n99999999");
        FAIL();
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("n99999999"), std::string::npos);
    }
    EXPECT_THROW(wordnet30().ancestors("bogus"), Error);
}

TEST(Hierarchy, ImageNetFilesGiveTheSameStructure) {
    testing::TempDir dir;
    testing::write_bytes(dir / "words.txt",
                         "n00001740\tentity\nn00001930\tphysical entity\nn00002137\tabstraction\n"
                         "n00002684\tobject, physical object\n");
    testing::write_bytes(dir / "gloss.txt", "n00001740\tthat which is perceived\n");
    testing::write_bytes(dir / "wordnet.is_a.txt",
                         "n00001740 n00001930\nn00001740 n00002137\nn00001930 n00002684\n"
                         "n00002137 n00002684\n");
    const Hierarchy hierarchy = Hierarchy::load(dir.path());
    EXPECT_EQ(hierarchy.size(), 4u);
    EXPECT_EQ(hierarchy.synset("n00001740").gloss, "that which is perceived");
    EXPECT_EQ(hierarchy.synset("n00002684").words, "object, physical object");
    EXPECT_EQ(hierarchy.paths_to_root("n00002684").size(), 2u);
    EXPECT_EQ(hierarchy.depth("n00002684"), 2);
    EXPECT_EQ(hierarchy.synset("n00001740").children,
              (std::vector<std::string>{"n00001930", "n00002137"}));
}

// Everything a hierarchy holds, as comparable text.
std::string structure_of(const Hierarchy& hierarchy, const std::vector<std::string>& wnids) {
    std::string text = std::to_string(hierarchy.size()) + " synsets\n";
    for (const auto& wnid : wnids) {
        const auto& synset = hierarchy.synset(wnid);
        text += wnid + "|" + synset.words + "|" + synset.gloss + "|";
        for (const auto& parent : synset.parents) text += parent + " ";
        text += "|";
        for (const auto& child : synset.children) text += child + " ";
        text += "\n";
    }
    return text;
}

TEST(Hierarchy, EveryAcceptedFormOfImageNetFilesGivesTheCleanHierarchy) {
    struct File {
        std::string name;
        std::string clean;
        std::string spread;
        std::string header;
    };
    const std::vector<File> files{
        {"words.txt",
         "n00001740\tentity\nn00001930\tphysical entity\nn00002137\tabstraction, abstract "
         "entity\n",
         "n00001740  entity\nn00001930\t\tphysical entity\nn00002137 \t abstraction, abstract "
         "entity\n",
         "wnid\twords"},
        {"gloss.txt", "n00001740\tthat which is perceived\nn00002137\ta general concept\n",
         "n00001740   that which is perceived\nn00002137\t \ta general concept\n", "wnid\tgloss"},
        {"wordnet.is_a.txt", "n00001740 n00001930\nn00001740 n00002137\n",
         "n00001740\tn00001930\nn00001740  \t n00002137\n", "parent child"},
    };
    const std::vector<std::string> wnids{"n00001740", "n00001930", "n00002137"};
    testing::TempDir dir;
    for (const auto& file : files) testing::write_bytes(dir / "clean" / file.name, file.clean);
    const std::string clean = structure_of(Hierarchy::load(dir / "clean"), wnids);
    for (const auto& file : files) {
        for (const auto& variant : testing::text_variants(file.clean, file.spread, file.header)) {
            SCOPED_TRACE(file.name + " as " + variant.name);
            const auto folder = dir / "variant";
            for (const auto& other : files)
                testing::write_bytes(folder / other.name,
                                     &other == &file ? variant.text : other.clean);
            try {
                EXPECT_EQ(structure_of(Hierarchy::load(folder), wnids), clean);
            } catch (const Error& error) {
                ADD_FAILURE() << error.what();
            }
        }
    }
}

TEST(Hierarchy, MalformedSourcesAreErrorsNamingTheFile) {
    testing::TempDir dir;
    EXPECT_THROW(Hierarchy::load(dir.path()), Error);  // nothing there
    testing::write_bytes(dir / "words.txt", "n00001740\tentity\n");
    testing::write_bytes(dir / "wordnet.is_a.txt", "n00001740\n");
    try {
        Hierarchy::load(dir.path());
        FAIL();
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("wordnet.is_a.txt:1"), std::string::npos)
            << error.what();
    }
    testing::write_bytes(dir / "wordnet.is_a.txt", "n00001740 n00001930\nn00001740,,n00002137\n");
    try {
        Hierarchy::load(dir.path());
        FAIL();
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("wordnet.is_a.txt:2"), std::string::npos)
            << error.what();
    }
    testing::write_bytes(dir / "bad" / "data.noun", "00001740 03 n zz entity\n");
    EXPECT_THROW(Hierarchy::load(dir / "bad"), Error);
}

// A sub-DAG as comparable text: its nodes with everything they hold, then its edges.
std::string text_of(const SubDag& dag) {
    std::string text;
    for (const auto& node : dag.nodes)
        text += node.wnid + "|" + node.words + "|" + node.gloss + "|" + std::to_string(node.depth) +
                "\n";
    for (const auto& [parent, child] : dag.edges)
        text += std::to_string(parent) + " " + std::to_string(child) + "\n";
    return text;
}

// Tabby, dog (two parents), barber chair, tench, a class near the end of data.noun
// (n04254680, soccer ball) and the root.
const std::vector<std::string>& sample_synsets() {
    static const std::vector<std::string> wnids{"n02123045", "n02084071", "n02791124",
                                                "n01440764", "n04254680", std::string(kRootWnid)};
    return wnids;
}

TEST(HierarchyByOffset, GivesWhatTheWholeParseGivesAndReadsOnlyTheSynsetsAndTheirAncestors) {
    const Hierarchy opened = Hierarchy::open(kDefaultWordnetDir);
    EXPECT_EQ(opened.size(), 0u);  // nothing read before it is asked for
    for (const auto& wnid : sample_synsets()) {
        SCOPED_TRACE(wnid);
        ASSERT_TRUE(opened.contains(wnid));
        const Synset& read = opened.synset(wnid);
        const Synset& parsed = wordnet30().synset(wnid);
        EXPECT_EQ(read.wnid, parsed.wnid);
        EXPECT_EQ(read.words, parsed.words);
        EXPECT_EQ(read.gloss, parsed.gloss);
        EXPECT_EQ(read.parents, parsed.parents);
        EXPECT_TRUE(read.children.empty());
        EXPECT_EQ(opened.ancestors(wnid), wordnet30().ancestors(wnid));
        EXPECT_EQ(opened.paths_to_root(wnid), wordnet30().paths_to_root(wnid));
        EXPECT_EQ(opened.depth(wnid), wordnet30().depth(wnid));
    }
    const SubDag whole = wordnet30().sub_dag(sample_synsets());
    EXPECT_EQ(text_of(opened.sub_dag(sample_synsets())), text_of(whole));
    EXPECT_EQ(opened.size(), whole.nodes.size());
    // Outputs and the resume fingerprint see the same source as with the whole parse.
    EXPECT_EQ(opened.origin(), wordnet30().origin());
    ASSERT_EQ(opened.files().size(), 1u);
    EXPECT_EQ(opened.files()[0].path, wordnet30().files().at(0).path);
    EXPECT_EQ(opened.files()[0].content, wordnet30().files().at(0).content);
    // Offsets that start no record: inside tabby's, in the licence, past the end.
    for (const char* name : {"n02123046", "n00000000", "n00000100", "n99999999"})
        EXPECT_FALSE(opened.contains(name)) << name;
}

TEST(HierarchyByOffset, ParsesNothingButTheRecordsItNeeds) {
    const std::vector<std::string> classes{"n02123045", "n02084071", "n02791124"};
    const SubDag whole = wordnet30().sub_dag(classes);
    std::set<std::string> needed;
    for (const auto& node : whole.nodes) needed.insert(node.wnid);
    testing::TempDir dir;
    testing::write_data_noun_keeping(dir / "data.noun", needed);
    EXPECT_THROW(Hierarchy::load(dir.path()), Error);  // the rest really is garbage
    const Hierarchy opened = Hierarchy::open(dir.path());
    EXPECT_EQ(text_of(opened.sub_dag(classes)), text_of(whole));
    EXPECT_FALSE(opened.contains("n01440764"));  // tench's record is garbage here
}

// A data.noun holding `records` at the byte offsets their first field names, the gaps
// filled with licence-style lines (a leading blank).
std::string data_noun_of(const std::vector<std::pair<std::size_t, std::string>>& records) {
    std::string bytes;
    for (const auto& [offset, record] : records) {
        if (offset > bytes.size()) bytes += std::string(offset - bytes.size() - 1, ' ') + "\n";
        bytes += record + "\n";
    }
    return bytes;
}

TEST(HierarchyByOffset, ANameWithoutItsRecordIsNoSynsetAndAPointerWithoutOneNamesTheFile) {
    testing::TempDir dir;
    const auto path = dir / "data.noun";
    testing::write_bytes(
        path, data_noun_of({
                  {1740, "00001740 03 n 01 entity 0 000 | that which is perceived"},
                  {2000, "00002000 03 n 01 thing 0 001 @ 00001740 n 0000 | a thing"},
                  {2100, "00002100 03 n 01 beyond 0 001 @ 00099999 n 0000 | past the end"},
                  {2200, "00002210 03 n 01 moved 0 001 @ 00001740 n 0000 | not at 2210"},
                  {2300, "00002300 03 n 01 inside 0 001 @ 00002001 n 0000 | not a start"},
                  {2400, "00002400 03 n 01 moving 0 001 @ 00002210 n 0000 | to a moved one"},
                  {2500, "00002500 03 n zz broken 0 000 | a bad word count"},
              }));
    const Hierarchy opened = Hierarchy::open(dir.path());
    EXPECT_EQ(opened.origin(), path.string());
    EXPECT_EQ(opened.ancestors("n00002000"), std::vector<std::string>{"n00001740"});
    EXPECT_EQ(opened.depth("n00002000"), 1);
    // Names: past the end, inside a record, at a record of another offset, in the gaps.
    for (const char* name : {"n00099999", "n00002001", "n00002200", "n00002210", "n00000000"}) {
        EXPECT_FALSE(opened.contains(name)) << name;
        const std::string unknown =
            std::string(name) + " is not a WordNet noun synset (" + path.string() + ")";
        try {
            opened.synset(name);
            ADD_FAILURE() << name;
        } catch (const Error& error) {
            EXPECT_NE(std::string(error.what()).find(unknown), std::string::npos) << error.what();
        }
    }
    // Pointers to the same: a corrupt data.noun, named.
    for (const char* name : {"n00002100", "n00002300", "n00002400", "n00002500"}) {
        try {
            opened.ancestors(name);
            ADD_FAILURE() << name;
        } catch (const Error& error) {
            const std::string message = error.what();
            EXPECT_NE(message.find(path.string()), std::string::npos) << message;
            EXPECT_NE(message.find(std::string(name) == "n00002500" ? "malformed" : "corrupt"),
                      std::string::npos)
                << message;
        }
    }
}

TEST(HierarchyByOffset, ADataNounWhoseOffsetsAreNotItsBytePositionsIsLoadedWhole) {
    std::string bytes =
        data_noun_of({{1740, "00001740 03 n 01 entity 0 000 | that which is perceived"},
                      {2000, "00002000 03 n 01 thing 0 001 @ 00001740 n 0000 | a thing"}});
    for (auto at = bytes.find('\n'); at != std::string::npos; at = bytes.find('\n', at + 2))
        bytes.replace(at, 1, "\r\n");
    testing::TempDir dir;
    testing::write_bytes(dir / "data.noun", bytes);
    const Hierarchy opened = Hierarchy::open(dir.path());
    EXPECT_EQ(opened.size(), 2u);
    EXPECT_EQ(opened.synset("n00002000").gloss, "a thing");
    EXPECT_EQ(opened.synset("n00001740").children, std::vector<std::string>{"n00002000"});
}

}  // namespace
}  // namespace synshard::wordnet
