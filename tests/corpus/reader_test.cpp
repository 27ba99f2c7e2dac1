#include "synshard/corpus/reader.hpp"

#include <gtest/gtest.h>

#include <map>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"

namespace synshard::corpus {
namespace {

using testing::TempDir;

std::vector<Item> items_of(const Source& source, const SourceListing& listing) {
    std::vector<Item> items;
    for (const auto& listed : listing.items) {
        Item item;
        item.key = listed.key;
        item.size = listed.size;
        if (source.kind == Source::Kind::tar) {
            item.path = source.path.string();
            item.member = listed.name;
        } else {
            item.path = (source.path / listed.name).string();
        }
        items.push_back(item);
    }
    return items;
}

std::map<std::string, ReadItem> read_all(std::span<const Item> items, std::uint64_t cap) {
    std::map<std::string, ReadItem> out;
    PieceReader reader(items, cap);
    while (auto next = reader.next()) {
        const std::string key = next->item->key;
        EXPECT_TRUE(out.emplace(key, std::move(*next)).second) << key << " returned twice";
    }
    return out;
}

TEST(PieceReader, FoldersAndTarsGiveTheSameBytesForEveryItem) {
    TempDir dir;
    testing::make_two_layouts(dir.path(), {6});
    for (const char* layout : {"dirs", "tars"}) {
        const auto source = discover_train(dir / layout, testing::default_wordnet()).sources.at(0);
        const auto items = items_of(source, list_source(source, 1 << 20));
        ASSERT_EQ(items.size(), 6u);
        // A piece is a contiguous range: the middle four.
        const auto read = read_all(std::span(items).subspan(1, 4), 1 << 20);
        ASSERT_EQ(read.size(), 4u) << layout;
        for (const auto& [key, result] : read) {
            EXPECT_FALSE(result.rejection) << key;
            const std::string name = key.substr(key.find('/') + 1);
            const std::string expected = testing::image_bytes(name, result.bytes.size());
            EXPECT_EQ(std::string(result.bytes.begin(), result.bytes.end()), expected) << key;
            EXPECT_EQ(result.bytes.size(), result.item->size);
        }
    }
}

TEST(PieceReader, TruncatedTarGivesArchiveErrorForEverythingNotReached) {
    TempDir dir;
    const auto tar = dir / "train" / "n01440764.tar";
    testing::write_tar(tar, {{"a.JPEG", std::string(1000, 'a')},
                             {"b.JPEG", std::string(5000, 'b')},
                             {"c.JPEG", std::string(1000, 'c')}});
    const auto source = discover_train(dir / "train", testing::default_wordnet()).sources.at(0);
    const auto items = items_of(source, list_source(source, 1 << 20));
    ASSERT_EQ(items.size(), 3u);
    testing::truncate_file(tar, 512 + 1024 + 512 + 2000);  // after planning, inside b
    const auto read = read_all(items, 1 << 20);
    ASSERT_EQ(read.size(), 3u);
    EXPECT_FALSE(read.at("n01440764/a.JPEG").rejection);
    EXPECT_EQ(read.at("n01440764/a.JPEG").bytes.size(), 1000u);
    for (const char* key : {"n01440764/b.JPEG", "n01440764/c.JPEG"}) {
        ASSERT_TRUE(read.at(key).rejection) << key;
        EXPECT_EQ(read.at(key).rejection->reason, Reason::archive_error);
        EXPECT_FALSE(read.at(key).rejection->detail.empty());
        EXPECT_TRUE(read.at(key).bytes.empty());
    }
}

TEST(PieceReader, FileThatChangedSincePlanningIsAValueNotAHang) {
    TempDir dir;
    testing::write_bytes(dir / "t" / "n01440764" / "a.JPEG", "aaaa");
    testing::write_bytes(dir / "t" / "n01440764" / "b.JPEG", std::string(64, 'b'));
    testing::write_bytes(dir / "t" / "n01440764" / "c.JPEG", "cccc");
    testing::write_bytes(dir / "t" / "n01440764" / "d.JPEG", "dddd");
    const auto source = discover_train(dir / "t", testing::default_wordnet()).sources.at(0);
    const auto items = items_of(source, list_source(source, 1 << 20));
    std::filesystem::remove(dir / "t" / "n01440764" / "c.JPEG");
    std::filesystem::remove(dir / "t" / "n01440764" / "d.JPEG");
    testing::make_fifo(dir / "t" / "n01440764" / "d.JPEG");
    const auto read = read_all(items, 16);
    EXPECT_EQ(std::string(read.at("n01440764/a.JPEG").bytes.begin(),
                          read.at("n01440764/a.JPEG").bytes.end()),
              "aaaa");
    EXPECT_EQ(read.at("n01440764/b.JPEG").rejection->reason, Reason::too_large);
    EXPECT_EQ(read.at("n01440764/c.JPEG").rejection->reason, Reason::unreadable);
    EXPECT_EQ(read.at("n01440764/d.JPEG").rejection->reason, Reason::not_a_file);
}

TEST(PieceReader, TarMemberOverTheCapIsNotRead) {
    TempDir dir;
    testing::write_tar(dir / "train" / "n01440764.tar",
                       {{"a.JPEG", std::string(300, 'a')}, {"b.JPEG", "bb"}});
    const auto source = discover_train(dir / "train", testing::default_wordnet()).sources.at(0);
    const auto items = items_of(source, list_source(source, 1 << 20));
    const auto read = read_all(items, 100);
    EXPECT_EQ(read.at("n01440764/a.JPEG").rejection->reason, Reason::too_large);
    EXPECT_EQ(read.at("n01440764/b.JPEG").bytes.size(), 2u);
}

}  // namespace
}  // namespace synshard::corpus
