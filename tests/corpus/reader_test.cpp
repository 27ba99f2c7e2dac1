#include "synshard/corpus/reader.hpp"

#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

std::vector<ReadItem> read_in_order(std::span<const Item> items, std::uint64_t cap) {
    std::vector<ReadItem> out;
    PieceReader reader(items, cap);
    while (auto next = reader.next()) out.push_back(std::move(*next));
    return out;
}

std::size_t open_descriptors() {
    const std::filesystem::directory_iterator fds("/proc/self/fd");
    return static_cast<std::size_t>(std::distance(fds, std::filesystem::directory_iterator()));
}

std::string bytes_of(const ReadItem& read) {
    return {read.bytes.begin(), read.bytes.end()};
}

// The name of image i of numbered_piece.
std::string numbered_name(std::size_t i) {
    return "i" + std::to_string(100 + i) + ".JPEG";
}

// A train folder of one class holding `count` images named numbered_name(i), whose bytes
// are testing::image_bytes(numbered_name(i), 100 + i), as the items of its one piece.
std::vector<Item> numbered_piece(const std::filesystem::path& train, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        testing::write_bytes(train / "n01440764" / numbered_name(i),
                             testing::image_bytes(numbered_name(i), 100 + i));
    }
    const auto source = discover_train(train, testing::default_wordnet()).sources.at(0);
    return items_of(source, list_source(source, 1 << 20));
}

// The read-ahead opens files before they are read: a file that vanished, turned into a
// FIFO or a folder, or grew over the cap inside the window is still judged when it is
// read, every item comes once in key order, the reader holds no more descriptors than
// its window, and none once it is gone.
TEST(PieceReader, PieceLongerThanTheReadAheadWindowGivesEveryItemInOrder) {
    TempDir dir;
    const std::size_t count = 2 * PieceReader::kReadAheadItems + 5;
    const auto folder = dir / "t" / "n01440764";
    const auto items = numbered_piece(dir / "t", count);
    ASSERT_EQ(items.size(), count);
    std::filesystem::remove(folder / numbered_name(2));
    std::filesystem::remove(folder / numbered_name(4));
    testing::make_fifo(folder / numbered_name(4));
    std::filesystem::remove(folder / numbered_name(5));
    std::filesystem::create_directory(folder / numbered_name(5));
    testing::write_bytes(folder / numbered_name(7), std::string(1000, 'x'));
    std::filesystem::remove(folder / numbered_name(count - 1));

    const std::size_t before = open_descriptors();
    std::vector<ReadItem> read;
    {
        PieceReader reader(items, 500);
        while (auto next = reader.next()) {
            EXPECT_LE(open_descriptors(), before + PieceReader::kReadAheadItems) << next->item->key;
            read.push_back(std::move(*next));
        }
    }
    EXPECT_EQ(open_descriptors(), before);
    ASSERT_EQ(read.size(), count);
    for (std::size_t i = 0; i < count; ++i) {
        const std::string key = "n01440764/" + numbered_name(i);
        ASSERT_EQ(read[i].item->key, key);
        if (i == 2 || i == 4 || i == 5 || i == 7 || i == count - 1) {
            ASSERT_TRUE(read[i].rejection) << key;
            EXPECT_TRUE(read[i].bytes.empty()) << key;
            continue;
        }
        EXPECT_FALSE(read[i].rejection) << key;
        EXPECT_EQ(bytes_of(read[i]), testing::image_bytes(numbered_name(i), 100 + i)) << key;
    }
    EXPECT_EQ(read[2].rejection->reason, Reason::unreadable);
    EXPECT_EQ(read[4].rejection->reason, Reason::not_a_file);
    EXPECT_EQ(read[5].rejection->reason, Reason::not_a_file);
    EXPECT_EQ(read[7].rejection->reason, Reason::too_large);
    EXPECT_EQ(read[count - 1].rejection->reason, Reason::unreadable);
}

// On a parallel file system every open is a round trip to the metadata server: the
// read-ahead's open is the one the read uses, so each file of a folder is opened once
// (counted by inotify, which sees every open of a watched folder's files).
TEST(PieceReader, OpensEachFileOfAFolderOnce) {
    TempDir dir;
    const std::size_t count = 2 * PieceReader::kReadAheadItems + 3;
    const auto folder = dir / "t" / "n01440764";
    const auto items = numbered_piece(dir / "t", count);
    ASSERT_EQ(items.size(), count);

    const UniqueFd watcher(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    ASSERT_GE(watcher.get(), 0) << std::strerror(errno);
    ASSERT_GE(::inotify_add_watch(watcher.get(), folder.c_str(), IN_OPEN), 0)
        << std::strerror(errno);
    const auto read = read_in_order(items, 1 << 20);
    ASSERT_EQ(read.size(), count);
    for (const auto& item : read) EXPECT_FALSE(item.rejection) << item.item->key;

    std::map<std::string, int> opens;
    alignas(inotify_event) char buffer[64 * 1024];
    for (ssize_t got; (got = ::read(watcher.get(), buffer, sizeof buffer)) > 0;) {
        for (char* at = buffer; at < buffer + got;) {
            const auto* event = reinterpret_cast<const inotify_event*>(at);
            if (event->len > 0) ++opens[event->name];
            at += sizeof(inotify_event) + event->len;
        }
    }
    ASSERT_EQ(opens.size(), count);
    for (const auto& [name, times] : opens) EXPECT_EQ(times, 1) << name;
}

// A piece in the middle of a tar longer than the read-ahead reach: exactly its members, in
// archive order, with their bytes, whatever lies before and after it.
TEST(PieceReader, PieceInsideALongTarGivesExactlyItsMembersInArchiveOrder) {
    TempDir dir;
    const std::size_t count = 3 * PieceReader::kReadAheadItems;
    std::vector<testing::TarMember> members;
    // Archive order is not key order: the names count down.
    for (std::size_t i = 0; i < count; ++i) {
        const std::string name = "m" + std::to_string(900 - i) + ".JPEG";
        members.emplace_back(name, testing::image_bytes(name, 700 + 13 * i));
    }
    const auto tar = dir / "train" / "n01440764.tar";
    testing::write_tar(tar, members);
    const auto source = discover_train(dir / "train", testing::default_wordnet()).sources.at(0);
    const auto items = items_of(source, list_source(source, 1 << 20));
    ASSERT_EQ(items.size(), count);
    const std::size_t first = 3;
    const std::size_t length = PieceReader::kReadAheadItems + 4;
    const auto piece = std::span(items).subspan(first, length);
    const auto read = read_in_order(piece, 1 << 20);
    ASSERT_EQ(read.size(), length);
    // Key order runs against archive order, so the piece comes back reversed.
    for (std::size_t i = 0; i < length; ++i) {
        const Item& item = piece[length - 1 - i];
        ASSERT_EQ(read[i].item, &item);
        EXPECT_FALSE(read[i].rejection) << item.key;
        const std::string name = item.member;
        EXPECT_EQ(bytes_of(read[i]), testing::image_bytes(name, item.size)) << item.key;
    }
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
