#include "synshard/corpus/listing.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/corpus/archive.hpp"
#include "synshard/util/error.hpp"

namespace synshard::corpus {
namespace {

using testing::TarMember;
using testing::TempDir;

std::vector<std::string> keys_of(const SourceListing& listing) {
    std::vector<std::string> keys;
    for (const auto& item : listing.items) keys.push_back(item.key);
    return keys;
}

const Rejection* find(const SourceListing& listing, const std::string& key) {
    for (const auto& rejection : listing.rejected) {
        if (rejection.key == key) return &rejection;
    }
    return nullptr;
}

TEST(Listing, FoldersAndTarsGiveTheSameKeysAndSizes) {
    TempDir dir;
    testing::make_two_layouts(dir.path(), {5, 3});
    const auto folders = discover_train(dir / "dirs", testing::default_wordnet());
    const auto tars = discover_train(dir / "tars", testing::default_wordnet());
    ASSERT_EQ(folders.sources.size(), 2u);
    ASSERT_EQ(tars.sources.size(), 2u);
    EXPECT_EQ(tars.sources[0].kind, Source::Kind::tar);
    for (std::size_t s = 0; s < 2; ++s) {
        EXPECT_EQ(folders.sources[s].name, tars.sources[s].name);
        const auto a = list_source(folders.sources[s], 1 << 20);
        const auto b = list_source(tars.sources[s], 1 << 20);
        EXPECT_EQ(keys_of(a), keys_of(b));
        ASSERT_EQ(a.items.size(), b.items.size());
        for (std::size_t i = 0; i < a.items.size(); ++i)
            EXPECT_EQ(a.items[i].size, b.items[i].size);
        EXPECT_TRUE(a.rejected.empty());
        EXPECT_TRUE(b.rejected.empty());
    }
    EXPECT_EQ(keys_of(list_source(folders.sources[0], 1 << 20)).front(),
              "n01440764/n01440764_1.JPEG");
}

TEST(Listing, FolderOddEntriesAreSkippedWithoutBeingOpened) {
    TempDir dir;
    const auto synset = dir / "train" / "n01440764";
    testing::write_bytes(synset / "a.JPEG", "abc");
    testing::write_bytes(synset / ".DS_Store", "x");
    testing::write_bytes(synset / "big.JPEG", std::string(100, 'x'));
    testing::make_fifo(synset / "pipe.JPEG");  // opening it blocking would hang the test
    std::filesystem::create_directories(synset / "nested");
    std::filesystem::create_symlink(synset / "missing", synset / "dangling.JPEG");
    std::filesystem::create_symlink(synset / "a.JPEG", synset / "link.JPEG");
    const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string socket_path = (synset / "sock").string();
    socket_path.copy(address.sun_path, sizeof(address.sun_path) - 1);
    ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    testing::write_bytes(dir / "train" / "README", "not a synset");
    testing::write_bytes(dir / "train" / ".hidden", "x");

    const auto discovery = discover_train(dir / "train", testing::default_wordnet());
    ::close(sock);
    ASSERT_EQ(discovery.sources.size(), 1u);
    ASSERT_EQ(discovery.rejected.size(), 2u);
    EXPECT_EQ(discovery.rejected[0], (Rejection{".hidden", Reason::hidden, "hidden entry"}));
    EXPECT_EQ(discovery.rejected[1].reason, Reason::unlabeled);

    const auto listing = list_source(discovery.sources[0], 50);
    EXPECT_EQ(keys_of(listing),
              (std::vector<std::string>{"n01440764/a.JPEG", "n01440764/link.JPEG"}));
    EXPECT_EQ(find(listing, "n01440764/.DS_Store")->reason, Reason::hidden);
    EXPECT_EQ(find(listing, "n01440764/pipe.JPEG")->reason, Reason::not_a_file);
    EXPECT_EQ(find(listing, "n01440764/nested")->reason, Reason::not_a_file);
    EXPECT_EQ(find(listing, "n01440764/dangling.JPEG")->reason, Reason::not_a_file);
    EXPECT_EQ(find(listing, "n01440764/sock")->reason, Reason::not_a_file);
    EXPECT_EQ(find(listing, "n01440764/big.JPEG")->reason, Reason::too_large);
    EXPECT_EQ(listing.items.size() + listing.rejected.size(), 8u);
}

TEST(Listing, MaliciousTarMembersAreReportedNotListed) {
    TempDir dir;
    testing::write_tar(dir / "train" / "n01440764.tar",
                       {{"n01440764_1.JPEG", "good"},
                        {"./n01440764_2.JPEG", "dot slash"},
                        {"n01440764/n01440764_3.JPEG", "under its own folder"},
                        {"../evil.JPEG", "escape"},
                        {"/abs.JPEG", "absolute"},
                        {"sub/dir/x.JPEG", "nested"},
                        {"link.JPEG", "", TarMember::Type::symlink, "/etc/passwd"},
                        {"hard.JPEG", "", TarMember::Type::hardlink, "n01440764_1.JPEG"},
                        {"fifo.JPEG", "", TarMember::Type::fifo},
                        {"n01440764", "", TarMember::Type::directory},
                        {"._n01440764_1.JPEG", "apple double"},
                        {"n01440764_1.JPEG", "again"},
                        {"huge.JPEG", std::string(200, 'h')}});
    const auto discovery = discover_train(dir / "train", testing::default_wordnet());
    ASSERT_EQ(discovery.sources.size(), 1u);
    const auto listing = list_source(discovery.sources[0], 100);
    EXPECT_EQ(keys_of(listing),
              (std::vector<std::string>{"n01440764/n01440764_1.JPEG", "n01440764/n01440764_2.JPEG",
                                        "n01440764/n01440764_3.JPEG"}));
    EXPECT_EQ(listing.items[1].name, "./n01440764_2.JPEG");  // the member's own path, to read it
    EXPECT_EQ(find(listing, "n01440764/../evil.JPEG")->reason, Reason::unsafe_path);
    EXPECT_EQ(find(listing, "n01440764//abs.JPEG")->reason, Reason::unsafe_path);
    EXPECT_EQ(find(listing, "n01440764/sub/dir/x.JPEG")->reason, Reason::not_a_file);
    EXPECT_EQ(find(listing, "n01440764/link.JPEG")->reason, Reason::not_a_file);
    EXPECT_EQ(find(listing, "n01440764/hard.JPEG")->reason, Reason::not_a_file);
    EXPECT_EQ(find(listing, "n01440764/fifo.JPEG")->reason, Reason::not_a_file);
    EXPECT_EQ(find(listing, "n01440764/._n01440764_1.JPEG")->reason, Reason::hidden);
    EXPECT_EQ(find(listing, "n01440764/huge.JPEG")->reason, Reason::too_large);
    EXPECT_EQ(find(listing, "n01440764/n01440764_1.JPEG")->reason, Reason::duplicate);
    EXPECT_EQ(listing.rejected.size(), 9u);
}

TEST(Listing, TruncatedTarKeepsWhatWasListedAndReportsTheRest) {
    TempDir dir;
    const auto tar = dir / "train" / "n01443537.tar";
    testing::write_tar(tar, {{"a.JPEG", std::string(1000, 'a')},
                             {"b.JPEG", std::string(5000, 'b')},
                             {"c.JPEG", std::string(1000, 'c')}});
    testing::truncate_file(tar, 512 + 1024 + 512 + 2000);  // inside b's data
    const auto listing = list_source(
        discover_train(dir / "train", testing::default_wordnet()).sources.at(0), 1 << 20);
    ASSERT_GE(listing.items.size(), 1u);
    EXPECT_EQ(listing.items[0].key, "n01443537/a.JPEG");
    const Rejection* broken = find(listing, "n01443537.tar");
    ASSERT_NE(broken, nullptr);
    EXPECT_EQ(broken->reason, Reason::archive_error);
    EXPECT_FALSE(broken->detail.empty());
}

TEST(Listing, HugeDeclaredMemberIsRejectedBeforeAnyRead) {
    TempDir dir;
    // A header declaring 20 GiB followed by a few bytes: truncated, never read.
    std::string bytes =
        testing::raw_tar_header("n01484850_1.JPEG", 20ull << 30) + std::string(512, 'x');
    testing::write_bytes(dir / "train" / "n01484850.tar", bytes);
    const auto listing = list_source(
        discover_train(dir / "train", testing::default_wordnet()).sources.at(0), 1 << 20);
    EXPECT_TRUE(listing.items.empty());
    ASSERT_NE(find(listing, "n01484850/n01484850_1.JPEG"), nullptr);
    EXPECT_EQ(find(listing, "n01484850/n01484850_1.JPEG")->reason, Reason::too_large);
    EXPECT_NE(find(listing, "n01484850/n01484850_1.JPEG")->detail.find("21474836480"),
              std::string::npos);
}

TEST(Listing, NotATarAtAllIsAnArchiveError) {
    TempDir dir;
    testing::write_bytes(dir / "train" / "n01484850.tar", "this is not a tar file, just text");
    const auto listing = list_source(
        discover_train(dir / "train", testing::default_wordnet()).sources.at(0), 1 << 20);
    EXPECT_TRUE(listing.items.empty());
    ASSERT_EQ(listing.rejected.size(), 1u);
    EXPECT_EQ(listing.rejected[0].reason, Reason::archive_error);
}

TEST(Listing, ValFolderFlatOrInSynsetFolders) {
    TempDir dir;
    testing::write_bytes(dir / "flat" / "ILSVRC2012_val_00000001.JPEG", "1");
    testing::write_bytes(dir / "flat" / ".DS_Store", "1");
    const auto flat = discover_val(dir / "flat", testing::default_wordnet());
    ASSERT_EQ(flat.sources.size(), 1u);
    EXPECT_EQ(flat.sources[0].name, "val");
    EXPECT_TRUE(flat.sources[0].wnid.empty());
    const auto listing = list_source(flat.sources[0], 100);
    EXPECT_EQ(keys_of(listing), std::vector<std::string>{"val/ILSVRC2012_val_00000001.JPEG"});
    EXPECT_EQ(listing.rejected.at(0).reason, Reason::hidden);

    testing::write_bytes(dir / "prep" / "n01440764" / "ILSVRC2012_val_00000002.JPEG", "2");
    const auto prep = discover_val(dir / "prep", testing::default_wordnet());
    ASSERT_EQ(prep.sources.size(), 1u);
    EXPECT_EQ(prep.sources[0].name, "val/n01440764");
    EXPECT_EQ(prep.sources[0].wnid, "n01440764");
    EXPECT_EQ(keys_of(list_source(prep.sources[0], 100)),
              std::vector<std::string>{"val/ILSVRC2012_val_00000002.JPEG"});
}

TEST(Listing, SynsetBothFolderAndTarOrMissingRootIsAUsageError) {
    TempDir dir;
    testing::write_bytes(dir / "train" / "n01440764" / "a.JPEG", "a");
    testing::write_tar(dir / "train" / "n01440764.tar", {{"a.JPEG", "a"}});
    EXPECT_THROW(discover_train(dir / "train", testing::default_wordnet()), UsageError);
    EXPECT_THROW(discover_train(dir / "missing", testing::default_wordnet()), UsageError);
}

TEST(Archive, AbsoluteOrDotDotMemberPathsAreUnsafeButDotsInsideANameAreNot) {
    EXPECT_TRUE(is_unsafe_member_path("../x"));
    EXPECT_TRUE(is_unsafe_member_path("a/../../x"));
    EXPECT_TRUE(is_unsafe_member_path("/etc/passwd"));
    EXPECT_TRUE(is_unsafe_member_path(".."));
    EXPECT_FALSE(is_unsafe_member_path("a..b/x"));
    EXPECT_FALSE(is_unsafe_member_path("./x"));
}

}  // namespace
}  // namespace synshard::corpus
