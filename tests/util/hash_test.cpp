#include "synshard/util/hash.hpp"

#include <gtest/gtest.h>

namespace synshard {
namespace {

TEST(Sha256, MatchesTheFipsTestVector) {
    Sha256 hasher;
    hasher.update(std::string_view("ab"));
    hasher.update(std::string_view("c"));
    EXPECT_EQ(to_hex(hasher.finish()),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(KeyedHash, DependsOnSeedAndKeyOnly) {
    const auto a = keyed_hash(7, "n01440764/n01440764_10026.JPEG");
    EXPECT_EQ(a, keyed_hash(7, "n01440764/n01440764_10026.JPEG"));
    EXPECT_NE(a, keyed_hash(8, "n01440764/n01440764_10026.JPEG"));
    EXPECT_NE(a, keyed_hash(7, "n01440764/n01440764_10027.JPEG"));
}

TEST(KeyedHash, IsXxh3OfLittleEndianSeedFollowedByKey) {
    // The documented definition, spelled out: seed bytes then key bytes, unseeded XXH3-64.
    const std::uint8_t bytes[] = {0x01, 0x02, 0, 0, 0, 0, 0, 0, 'k', 'e', 'y'};
    EXPECT_EQ(keyed_hash(0x0201, "key"), content_hash64(bytes));
}

}  // namespace
}  // namespace synshard
