#include "synshard/convert/output_files.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "support/test_support.hpp"
#include "synshard/h5/format.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::convert {
namespace {

namespace fs = std::filesystem;

void touch(const fs::path& path) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << "x";
}

class OutputFilesRule : public ::testing::Test {
  protected:
    OutputFiles files(const fs::path& scratch) const {
        return {canonical_path(out()), canonical_path(scratch), {}};
    }
    fs::path out() const { return dir_ / "out"; }
    std::optional<fs::path> foreign() const {
        return first_foreign_path(files(out() / ".scratch"));
    }

    testing::TempDir dir_;
};

TEST(ShardFileName, OnlyTheNamesTheWriterGivesAreShardNames) {
    EXPECT_TRUE(h5::is_shard_file_name("train", h5::shard_file_name("train", 3, 10)));
    EXPECT_TRUE(h5::is_shard_file_name("val", "val-123456-of-200000.h5"));
    EXPECT_FALSE(h5::is_shard_file_name("val", h5::shard_file_name("train", 3, 10)));
    for (const char* name : {"train-0001-of-00010.h5", "train-00001-of-00010.h5.bak",
                             "train-00001-of-0001x.h5", "train-00001_of_00010.h5", "train.h5"}) {
        EXPECT_FALSE(h5::is_shard_file_name("train", name)) << name;
    }
}

TEST_F(OutputFilesRule, AMissingOrEmptyOutputHoldsNothingForeign) {
    EXPECT_FALSE(foreign());
    fs::create_directories(out());
    EXPECT_FALSE(foreign());
}

TEST_F(OutputFilesRule, EveryNameSynshardWritesIsOursAndAnythingElseIsNamed) {
    for (const char* name :
         {"manifest.json", "index.h5.tmp", ".synshard-journal.json", ".synshard.lock",
          "rejected.json", "train/train-00000-of-00002.h5", "val/val-00001-of-00002.h5.tmp",
          ".scratch/synshard-0123456789abcdef/n01440764/0-5.spool"}) {
        touch(out() / name);
    }
    EXPECT_FALSE(foreign());
    touch(out() / "val" / "train-00000-of-00002.h5");  // a train shard in val/
    EXPECT_EQ(foreign(), out() / "val" / "train-00000-of-00002.h5");
    fs::remove(out() / "val" / "train-00000-of-00002.h5");
    touch(out() / ".scratch" / "mine");
    EXPECT_EQ(foreign(), out() / ".scratch" / "mine");
}

TEST_F(OutputFilesRule, ASymbolicLinkIsNeverOurs) {
    fs::create_directories(dir_ / "elsewhere");
    fs::create_directories(out());
    fs::create_directory_symlink(dir_ / "elsewhere", out() / "train");
    EXPECT_EQ(foreign(), out() / "train");
}

TEST_F(OutputFilesRule, AScratchFolderInsideTheOutputIsOursAtAnyDepthOrAsTheOutputItself) {
    touch(out() / "spools" / "node1" / "synshard-0123456789abcdef" / "a.spool");
    EXPECT_TRUE(first_foreign_path(files(out() / "spools" / "node1")) == std::nullopt);
    EXPECT_EQ(first_foreign_path(files(out() / ".scratch")), out() / "spools");

    touch(out() / "synshard-00000000000000ff" / "b.spool");
    touch(out() / "manifest.json");
    EXPECT_EQ(first_foreign_path(files(out())), out() / "spools");
    fs::remove_all(out() / "spools");
    EXPECT_FALSE(first_foreign_path(files(out())));
}

TEST_F(OutputFilesRule, RemovingOurFilesKeepsTheLockAndEveryForeignPath) {
    for (const char* name :
         {"manifest.json", ".synshard.lock", "train/train-00000-of-00001.h5",
          ".scratch/synshard-0123456789abcdef/n01440764/0-5.spool", "val/mine.txt"}) {
        touch(out() / name);
    }
    remove_our_files(files(out() / ".scratch"));
    EXPECT_TRUE(fs::exists(out() / ".synshard.lock"));
    EXPECT_TRUE(fs::exists(out() / "val" / "mine.txt"));
    EXPECT_FALSE(fs::exists(out() / "manifest.json"));
    EXPECT_FALSE(fs::exists(out() / "train"));
    EXPECT_FALSE(fs::exists(out() / ".scratch"));
}

TEST_F(OutputFilesRule, StaleFilesAreTemporariesUnlistedShardsAndTheRejectList) {
    for (const char* name :
         {"manifest.json.tmp", "rejected.json", "index.h5", "train/train-00000-of-00002.h5",
          "train/train-00001-of-00002.h5", "train/train-00001-of-00002.h5.tmp"}) {
        touch(out() / name);
    }
    remove_stale_files(out(), {"train/train-00001-of-00002.h5"});
    EXPECT_FALSE(fs::exists(out() / "manifest.json.tmp"));
    EXPECT_FALSE(fs::exists(out() / "rejected.json"));
    EXPECT_FALSE(fs::exists(out() / "train" / "train-00000-of-00002.h5"));
    EXPECT_FALSE(fs::exists(out() / "train" / "train-00001-of-00002.h5.tmp"));
    EXPECT_TRUE(fs::exists(out() / "train" / "train-00001-of-00002.h5"));
    EXPECT_TRUE(fs::exists(out() / "index.h5"));
}

TEST_F(OutputFilesRule, ASpoolFolderLosesItsSpoolsAndOutcomeListsButNothingElse) {
    const fs::path spool = dir_ / "scratch" / "synshard-0123456789abcdef";
    touch(spool / "n01440764" / "0-5.spool");
    touch(spool / "n01440764" / "0-5.done");
    touch(spool / "n01440764" / "5-9.done.tmp");
    remove_spool_folder(spool);
    EXPECT_FALSE(fs::exists(spool));

    touch(spool / "n01440764" / "0-5.spool");
    touch(spool / "n01440764" / "notes.txt");
    remove_spool_folder(spool);
    EXPECT_FALSE(fs::exists(spool / "n01440764" / "0-5.spool"));
    EXPECT_TRUE(fs::exists(spool / "n01440764" / "notes.txt"));
}

TEST_F(OutputFilesRule, AnOutputFolderIsRemovedWholeOnlyWhenEverythingInItIsOurs) {
    touch(out() / "manifest.json");
    touch(out() / ".synshard.lock");
    touch(out() / "train" / "train-00000-of-00001.h5");
    touch(out() / "mine.txt");
    EXPECT_THROW(remove_output_folder(files(out() / ".scratch")), Error);
    EXPECT_TRUE(fs::exists(out() / "manifest.json")) << "nothing is removed on refusal";
    fs::remove(out() / "mine.txt");
    remove_output_folder(files(out() / ".scratch"));
    EXPECT_FALSE(fs::exists(out()));
}

}  // namespace
}  // namespace synshard::convert
