#include "synshard/util/bytes.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace synshard {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes varint_bytes(std::uint64_t value) {
    ByteWriter writer;
    writer.put_varint(value);
    return writer.buffer();
}

TEST(Varint, IsLeb128SevenBitsAByteLowFirst) {
    EXPECT_EQ(varint_bytes(0), (Bytes{0x00}));
    EXPECT_EQ(varint_bytes(1), (Bytes{0x01}));
    EXPECT_EQ(varint_bytes(127), (Bytes{0x7f}));
    EXPECT_EQ(varint_bytes(128), (Bytes{0x80, 0x01}));
    EXPECT_EQ(varint_bytes(300), (Bytes{0xac, 0x02}));
    EXPECT_EQ(varint_bytes(16384), (Bytes{0x80, 0x80, 0x01}));
    EXPECT_EQ(varint_bytes(624485), (Bytes{0xe5, 0x8e, 0x26}));
    EXPECT_EQ(varint_bytes(std::numeric_limits<std::uint64_t>::max()),
              (Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

TEST(Varint, ReadsBackEveryValueAmongOtherFieldsAndEndsWhereItsLastByteIs) {
    const std::vector<std::uint64_t> values{
        0, 1, 127, 128, 16383, 16384, 1ull << 32, (1ull << 63) + 5, ~0ull};
    ByteWriter writer;
    for (const auto value : values) {
        writer.put_varint(value);
        writer.put<std::uint8_t>(0xee);
    }
    writer.put_varint_string("n01440764_10026.JPEG");
    writer.put_varint_string("");
    ByteReader reader(writer.buffer());
    for (const auto value : values) {
        EXPECT_EQ(reader.get_varint(), value);
        EXPECT_EQ(reader.get<std::uint8_t>(), 0xee);
    }
    EXPECT_EQ(reader.get_varint_string(), "n01440764_10026.JPEG");
    EXPECT_EQ(reader.get_varint_string(), "");
    EXPECT_TRUE(reader.at_end());
}

TEST(Varint, AShortStringSpendsOneByteOnItsLength) {
    ByteWriter writer;
    writer.put_varint_string("n01440764_10026.JPEG");
    EXPECT_EQ(writer.buffer().size(), 1u + 20u);
    EXPECT_EQ(writer.buffer().front(), 20);
}

TEST(Varint, ATornOrOverlongNumberOrStringThrows) {
    const Bytes torn{0x80};  // a continuation bit with nothing after it
    ByteReader torn_reader(torn);
    EXPECT_THROW(torn_reader.get_varint(), Error);
    const Bytes eleven_bytes(11, 0x80);
    ByteReader overlong_reader(eleven_bytes);
    EXPECT_THROW(overlong_reader.get_varint(), Error);
    const Bytes short_string{0x05, 'a', 'b'};  // says five bytes, holds two
    ByteReader string_reader(short_string);
    EXPECT_THROW(string_reader.get_varint_string(), Error);
}

}  // namespace
}  // namespace synshard
