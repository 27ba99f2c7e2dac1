#include "synshard/survey/encoded_items.hpp"

#include <gtest/gtest.h>

#include "synshard/util/error.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::survey {
namespace {

using corpus::Item;
using corpus::Source;

constexpr std::uint64_t kSeed = 2012;

Source folder_source() {
    Source source;
    source.name = "n01440764";
    source.path = "/data/train/n01440764";
    source.wnid = "n01440764";
    source.key_prefix = "n01440764/";
    return source;
}

Item item_with(std::string key, std::string path, std::string member, std::string wnid,
               std::int32_t label, corpus::Split split, std::uint64_t size,
               corpus::LabeledBox box) {
    const std::uint64_t hash = keyed_hash(kSeed, key);
    return {std::move(key),
            std::move(wnid),
            label,
            split,
            size,
            std::move(path),
            std::move(member),
            hash,
            {std::move(box)},
            std::nullopt};
}

// What the folder implies: only the file name, label, size and box travel.
Item typical_item() {
    return item_with("n01440764/n01440764_10026.JPEG", "/data/train/n01440764/n01440764_10026.JPEG",
                     "", "n01440764", 0, corpus::Split::train, 110000,
                     {{12.5f, 3, 200, 150.25f}, "n01440764", 0});
}

// Nothing of it follows from the folder.
Item unusual_item() {
    return item_with("val/ILSVRC2012_val_00000001.JPEG", "/data/val.tar",
                     "ILSVRC2012_val_00000001.JPEG", "n01443537", -1, corpus::Split::val,
                     1ull << 40, {{0, 0, 1, 1}, "", -1});
}

TEST(EncodedItems, DecodeGivesBackWhatWasEncodedWithTheSeedsHash) {
    const std::vector<Item> items{typical_item(), unusual_item(), typical_item()};
    const EncodedItems encoded = encode_items(items, folder_source());
    EXPECT_EQ(encoded.count, 3u);
    EXPECT_EQ(decode_items(encoded.bytes, 3, folder_source(), kSeed), items);
}

TEST(EncodedItems, ATypicalImageNetItemWithABoxTakesFortyFiveBytes) {
    const EncodedItems encoded = encode_items({typical_item()}, folder_source());
    // Flags 1, file name 1 + 20, label 1, size 3, box count 1, box 1 + 16 + label 1.
    EXPECT_EQ(encoded.bytes.size(), 45u);
    EXPECT_EQ(encoded.bytes.size(), encoded.bytes.capacity());
}

TEST(EncodedItems, ATarMembersLocationFollowsFromItsSource) {
    Source tar = folder_source();
    tar.kind = Source::Kind::tar;
    tar.path = "/data/train/n01440764.tar";
    Item item = typical_item();
    item.path = tar.path.string();
    item.member = "n01440764_10026.JPEG";
    const EncodedItems in_tar = encode_items({item}, tar);
    EXPECT_EQ(in_tar.bytes.size(), encode_items({typical_item()}, folder_source()).bytes.size());
    EXPECT_EQ(decode_items(in_tar.bytes, 1, tar, kSeed), std::vector<Item>{item});
}

// A member read in place keeps its absolute offset in the archive, stored relative to its
// tar's, and an item outside the source's tar (a misplaced one) keeps all of its location.
TEST(EncodedItems, AnArchiveMembersOffsetSurvivesRelativeToItsTar) {
    Source inner = folder_source();
    inner.kind = Source::Kind::archive_member;
    inner.path = "/data/ILSVRC2012_img_train.tar";
    inner.member = "n01440764.tar";
    inner.offset = 5'000'000'000;
    inner.size = 140'000'000;
    Item item = typical_item();
    item.path = inner.path.string();
    item.member = "n01440764_10026.JPEG";
    item.offset = inner.offset + 1536;
    Item elsewhere = unusual_item();
    elsewhere.offset = 7;
    const std::vector<Item> items{item, elsewhere};
    const EncodedItems encoded = encode_items(items, inner);
    EXPECT_EQ(decode_items(encoded.bytes, 2, inner, kSeed), items);
    // The offset costs the varint of its distance into the tar, not of its 5 GB position.
    EXPECT_LE(encode_items({item}, inner).bytes.size(),
              encode_items({typical_item()}, folder_source()).bytes.size() + 2);
}

TEST(EncodedItems, OffsetsCutTheEncodingIntoItemsThatDecodeAlone) {
    const std::vector<Item> items{typical_item(), unusual_item(), typical_item()};
    const EncodedItems encoded = encode_items(items, folder_source());
    const auto offsets = item_offsets(encoded, folder_source());
    ASSERT_EQ(offsets.size(), 4u);
    EXPECT_EQ(offsets.front(), 0u);
    EXPECT_EQ(offsets.back(), encoded.bytes.size());
    const auto middle = std::span(encoded.bytes).subspan(offsets[1], offsets[2] - offsets[1]);
    EXPECT_EQ(decode_items(middle, 1, folder_source(), kSeed), std::vector<Item>{items[1]});
}

TEST(EncodedItems, TornBytesOrAWrongCountThrow) {
    const EncodedItems encoded = encode_items({typical_item(), unusual_item()}, folder_source());
    const auto torn = std::span(encoded.bytes).first(encoded.bytes.size() - 1);
    EXPECT_THROW(decode_items(torn, 2, folder_source(), kSeed), Error);
    EXPECT_THROW(decode_items(encoded.bytes, 3, folder_source(), kSeed), Error);
    EXPECT_THROW(
        item_offsets({{encoded.bytes.begin(), encoded.bytes.end() - 1}, 2}, folder_source()),
        Error);
}

}  // namespace
}  // namespace synshard::survey
