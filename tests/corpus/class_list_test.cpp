#include "synshard/corpus/class_list.hpp"

#include <gtest/gtest.h>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "support/text_variants.hpp"
#include "synshard/util/error.hpp"

namespace synshard::corpus {
namespace {

TEST(ClassList, TakesEachLinesSynsetAndRefusesRepeatsAndNonSynsets) {
    testing::TempDir dir;
    testing::write_bytes(dir / "LOC_synset_mapping.txt",
                         "n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n\n");
    EXPECT_EQ(read_class_list(dir / "LOC_synset_mapping.txt"),
              (std::vector<std::string>{"n01440764", "n01443537"}));
    testing::write_bytes(dir / "dup.txt", "n01440764\nn01440764\n");
    EXPECT_THROW(read_class_list(dir / "dup.txt"), UsageError);
    testing::write_bytes(dir / "bad.txt", "n01440764\ntench\n");
    EXPECT_THROW(read_class_list(dir / "bad.txt"), UsageError);
}

TEST(ClassList, EveryAcceptedFormGivesTheCleanList) {
    testing::TempDir dir;
    const std::string clean =
        "n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\nn01484850\n";
    const std::string spread =
        "n01440764\ttench, Tinca tinca\n"
        "n01443537    goldfish, Carassius auratus\nn01484850\n";
    const std::vector<std::string> wnids{"n01440764", "n01443537", "n01484850"};
    for (const auto& variant : testing::text_variants(clean, spread, "synset,words")) {
        SCOPED_TRACE(variant.name);
        testing::write_bytes(dir / "classes.txt", variant.text);
        try {
            EXPECT_EQ(read_class_list(dir / "classes.txt"), wnids);
        } catch (const Error& error) {
            ADD_FAILURE() << error.what();
        }
    }
}

TEST(ClassList, ARowThatCannotBeParsedIsAnErrorNamingFileAndLine) {
    testing::TempDir dir;
    // A byte-order mark is one only at the start of the file.
    testing::write_bytes(dir / "classes.txt", "n01440764\r\n\xEF\xBB\xBFn01443537\r\n");
    try {
        read_class_list(dir / "classes.txt");
        FAIL();
    } catch (const UsageError& error) {
        EXPECT_NE(std::string(error.what()).find((dir / "classes.txt").string() + ":2:"),
                  std::string::npos)
            << error.what();
    }
}

}  // namespace
}  // namespace synshard::corpus
