#include "synshard/corpus/class_list.hpp"

#include <gtest/gtest.h>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
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

}  // namespace
}  // namespace synshard::corpus
