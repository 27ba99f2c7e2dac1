#include "synshard/corpus/gzip_index.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/corpus/archive.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/rng.hpp"

namespace synshard::corpus {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr std::uint64_t kSmallSpan = 64 * 1024;

// Runs of random bytes (which do not deflate, like JPEG data) between runs of a repeated
// phrase (which do), so the gzip file holds many dynamic blocks of both kinds.
std::string mixed_bytes(std::size_t size, std::uint64_t seed) {
    Rng rng(seed);
    std::string bytes;
    bytes.reserve(size);
    while (bytes.size() < size) {
        const auto run = static_cast<std::size_t>(rng.between(500, 6000));
        if (rng.below(2) == 0) {
            for (std::size_t i = 0; i < run; ++i) bytes.push_back(static_cast<char>(rng.next()));
        } else {
            for (std::size_t i = 0; i < run; ++i) bytes.push_back("n01440764/tench "[i % 16]);
        }
    }
    bytes.resize(size);
    return bytes;
}

// The members compressed one by one by the gzip command and concatenated, as
// `cat a.gz b.gz` makes them.
void write_gzip(const fs::path& path, const std::vector<std::string>& members) {
    const fs::path plain = path.string() + ".member";
    for (const auto& member : members) {
        testing::write_bytes(plain, member);
        const auto result =
            testing::run_shell("gzip -c -n '" + plain.string() + "' >> '" + path.string() + "'");
        ASSERT_EQ(result.exit_code, 0) << result.output;
    }
    fs::remove(plain);
}

std::string read_range(ByteSource& source, std::uint64_t offset, std::size_t length) {
    std::string bytes(length, '\0');
    const auto got =
        source.read_at(offset, std::span(reinterpret_cast<std::uint8_t*>(bytes.data()), length));
    bytes.resize(got);
    return bytes;
}

std::string expected_range(const std::string& data, std::uint64_t offset, std::size_t length) {
    return offset >= data.size() ? std::string() : data.substr(offset, length);
}

// Reads of every kind against the plain bytes: random places and lengths (many crossing
// access points, some past the end), then the whole in 64 KiB steps, then backwards.
void expect_reads_match(GzipByteSource& source, const std::string& data, std::uint64_t seed) {
    ASSERT_EQ(source.size(), data.size());
    Rng rng(seed);
    for (int i = 0; i < 150; ++i) {
        const auto offset = rng.below(data.size() + 1000);
        const auto length = static_cast<std::size_t>(rng.between(1, 200'000));
        ASSERT_EQ(read_range(source, offset, length), expected_range(data, offset, length))
            << "read of " << length << " at " << offset;
    }
    std::string whole;
    for (std::uint64_t offset = 0; offset < data.size(); offset += 65536)
        whole += read_range(source, offset, 65536);
    EXPECT_TRUE(whole == data);
    for (std::uint64_t end = data.size(); end > 0; end -= std::min<std::uint64_t>(end, 40'000)) {
        const auto offset = end - std::min<std::uint64_t>(end, 40'000);
        ASSERT_EQ(read_range(source, offset, end - offset), data.substr(offset, end - offset));
    }
    EXPECT_EQ(read_range(source, data.size(), 10), "");
}

// The message of the ArchiveError that `action` throws, or a failure.
template <class Action>
std::string archive_error_of(Action&& action) {
    try {
        action();
    } catch (const ArchiveError& error) {
        return error.what();
    }
    ADD_FAILURE() << "expected an ArchiveError";
    return {};
}

// The offset in "... compressed offset N ...".
std::uint64_t compressed_offset_in(const std::string& message) {
    const std::string label = "compressed offset ";
    const auto at = message.find(label);
    if (at == std::string::npos) {
        ADD_FAILURE() << "no compressed offset in: " << message;
        return 0;
    }
    return std::stoull(message.substr(at + label.size()));
}

TEST(GzipIndex, RandomAndSequentialReadsGiveTheUncompressedBytes) {
    TempDir dir;
    const auto data = mixed_bytes(1'200'000, 1);
    write_gzip(dir / "a.gz", {data});
    const auto index = build_gzip_index(dir / "a.gz", dir / "a.gzi", kSmallSpan);
    EXPECT_EQ(index.uncompressed_size, data.size());
    ASSERT_GE(index.points.size(), 3u);
    EXPECT_EQ(index.points.front().uncompressed_offset, 0u);
    for (std::size_t i = 1; i < index.points.size(); ++i) {
        const auto gap =
            index.points[i].uncompressed_offset - index.points[i - 1].uncompressed_offset;
        EXPECT_GE(gap, kSmallSpan) << "point " << i;
        EXPECT_GT(index.points[i].compressed_offset, index.points[i - 1].compressed_offset);
    }
    GzipByteSource source(dir / "a.gz", index);
    EXPECT_EQ(source.name(), (dir / "a.gz").string());
    expect_reads_match(source, data, 2);
}

TEST(GzipIndex, ConcatenatedMembersReadAsOneStream) {
    TempDir dir;
    // A one-block member, an empty one, and access points inside the later members, so
    // reads entered at a point in one member run on into the next.
    const std::vector<std::string> members = {mixed_bytes(300'000, 3), "tiny member\n", "",
                                              mixed_bytes(200'000, 4), mixed_bytes(150'000, 5)};
    std::string data;
    for (const auto& member : members) data += member;
    write_gzip(dir / "multi.gz", members);
    const auto index = build_gzip_index(dir / "multi.gz", dir / "multi.gzi", 32 * 1024);
    EXPECT_EQ(index.uncompressed_size, data.size());
    ASSERT_GE(index.points.size(), 3u);
    EXPECT_GT(index.points.back().uncompressed_offset, 300'000u + 12 + 200'000);
    GzipByteSource source(dir / "multi.gz", index);
    expect_reads_match(source, data, 6);
    // Entered at the last point of the first member, read on through the two small ones.
    std::size_t last_in_first = 0;
    while (index.points[last_in_first + 1].uncompressed_offset < 300'000) ++last_in_first;
    const auto from = index.points[last_in_first].uncompressed_offset;
    EXPECT_EQ(read_range(source, from, 400'000), data.substr(from, 400'000));
}

TEST(GzipIndex, EmptyGzipFileHoldsNoBytes) {
    TempDir dir;
    write_gzip(dir / "empty.gz", {""});
    const auto index = build_gzip_index(dir / "empty.gz", dir / "empty.gzi", kSmallSpan);
    EXPECT_EQ(index.uncompressed_size, 0u);
    GzipByteSource source(dir / "empty.gz", index);
    EXPECT_EQ(read_range(source, 0, 100), "");
}

TEST(GzipIndex, LoadGivesBackTheSavedIndex) {
    TempDir dir;
    const auto data = mixed_bytes(700'000, 7);
    write_gzip(dir / "a.gz", {data});
    const auto built = build_gzip_index(dir / "a.gz", dir / "a.gzi", kSmallSpan);
    EXPECT_FALSE(fs::exists(temporary_path_for(dir / "a.gzi")));
    const auto loaded = load_gzip_index(dir / "a.gzi", dir / "a.gz");
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->file, dir / "a.gzi");
    EXPECT_EQ(loaded->compressed_size, fs::file_size(dir / "a.gz"));
    EXPECT_EQ(loaded->compressed_mtime_ns, built.compressed_mtime_ns);
    EXPECT_EQ(loaded->uncompressed_size, data.size());
    EXPECT_EQ(loaded->points, built.points);
    EXPECT_EQ(loaded->digest, built.digest);
    EXPECT_EQ(loaded->digest.size(), 32u);
    GzipByteSource source(dir / "a.gz", *loaded);
    expect_reads_match(source, data, 8);
    // The same bytes under another mtime are another identity.
    auto other = build_gzip_index(dir / "a.gz", dir / "b.gzi", kSmallSpan);
    EXPECT_EQ(other.digest, built.digest);
    fs::last_write_time(dir / "a.gz", fs::last_write_time(dir / "a.gz") + std::chrono::seconds(3));
    other = build_gzip_index(dir / "a.gz", dir / "b.gzi", kSmallSpan);
    EXPECT_NE(other.digest, built.digest);
}

TEST(GzipIndex, LoadRefusesTheIndexOfAChangedGzipFile) {
    TempDir dir;
    const auto gz = dir / "a.gz";
    write_gzip(gz, {mixed_bytes(300'000, 9)});
    build_gzip_index(gz, dir / "a.gzi", kSmallSpan);
    const auto built_at = fs::last_write_time(gz);

    fs::last_write_time(gz, built_at + std::chrono::seconds(1));  // touched
    EXPECT_FALSE(load_gzip_index(dir / "a.gzi", gz));
    fs::last_write_time(gz, built_at);
    ASSERT_TRUE(load_gzip_index(dir / "a.gzi", gz));

    // Rewritten with other bytes of the same size, then with more bytes.
    auto bytes = read_file(gz);
    bytes[bytes.size() / 2] ^= 0x10;
    write_file_atomically(gz, bytes);
    EXPECT_FALSE(load_gzip_index(dir / "a.gzi", gz));
    bytes.push_back(0);
    write_file_atomically(gz, bytes);
    fs::last_write_time(gz, built_at);
    EXPECT_FALSE(load_gzip_index(dir / "a.gzi", gz));

    EXPECT_FALSE(load_gzip_index(dir / "absent.gzi", gz));
    EXPECT_FALSE(load_gzip_index(dir / "a.gzi", dir / "absent.gz"));
}

TEST(GzipIndex, SourceRefusesAGzipFileChangedSinceItsIndexWasLoaded) {
    TempDir dir;
    const auto gz = dir / "a.gz";
    write_gzip(gz, {mixed_bytes(300'000, 10)});
    const auto index = build_gzip_index(gz, dir / "a.gzi", kSmallSpan);
    fs::last_write_time(gz, fs::last_write_time(gz) + std::chrono::seconds(1));
    const auto message = archive_error_of([&] { GzipByteSource source(gz, index); });
    EXPECT_NE(message.find(gz.string()), std::string::npos) << message;
}

TEST(GzipIndex, LoadRefusesACorruptOrTruncatedIndex) {
    TempDir dir;
    const auto gz = dir / "a.gz";
    const auto data = mixed_bytes(600'000, 11);
    write_gzip(gz, {data});
    const auto index = build_gzip_index(gz, dir / "a.gzi", kSmallSpan);
    const auto saved = read_file(dir / "a.gzi");
    ASSERT_GE(index.points.size(), 3u);
    const auto& last = index.points.back();
    const std::size_t windows_begin = index.points.front().window_offset;
    const std::size_t windows_end = last.window_offset + last.window_size;

    // Every byte outside the windows is checked at load.
    std::vector<std::size_t> positions;
    for (std::size_t at = 0; at < windows_begin; ++at) positions.push_back(at);
    for (std::size_t at = windows_end; at < saved.size(); ++at) positions.push_back(at);
    for (const auto at : positions) {
        auto bytes = saved;
        bytes[at] ^= 0x01;
        write_file_atomically(dir / "a.gzi", bytes);
        ASSERT_FALSE(load_gzip_index(dir / "a.gzi", gz)) << "byte " << at << " flipped";
    }
    for (const std::size_t size :
         {std::size_t{0}, std::size_t{10}, windows_begin, windows_end, saved.size() - 1}) {
        write_file_atomically(dir / "a.gzi", std::span(saved).first(size));
        ASSERT_FALSE(load_gzip_index(dir / "a.gzi", gz)) << "truncated to " << size;
    }
    auto longer = saved;
    longer.push_back(0);
    write_file_atomically(dir / "a.gzi", longer);
    EXPECT_FALSE(load_gzip_index(dir / "a.gzi", gz));

    // A window is checked when its point is entered: reads there fail naming the index,
    // reads entered at the other points go on.
    auto bytes = saved;
    const auto& damaged = index.points[1];
    bytes[damaged.window_offset + damaged.window_size / 2] ^= 0x01;
    write_file_atomically(dir / "a.gzi", bytes);
    auto loaded = load_gzip_index(dir / "a.gzi", gz);
    ASSERT_TRUE(loaded);
    GzipByteSource source(gz, *loaded);
    const auto message =
        archive_error_of([&] { read_range(source, damaged.uncompressed_offset + 10, 100); });
    EXPECT_NE(message.find((dir / "a.gzi").string()), std::string::npos) << message;
    const auto third = index.points[2].uncompressed_offset;
    EXPECT_EQ(read_range(source, third, 1000), data.substr(third, 1000));
}

TEST(GzipIndex, ReadsInOrderContinueTheOpenStreamPastTheNextAccessPoints) {
    TempDir dir;
    const auto gz = dir / "a.gz";
    const auto data = mixed_bytes(600'000, 15);
    write_gzip(gz, {data});
    const auto index = build_gzip_index(gz, dir / "a.gzi", kSmallSpan);
    ASSERT_GE(index.points.size(), 4u);
    // Points 2 and 3 cannot be entered: their windows are damaged.
    auto bytes = read_file(dir / "a.gzi");
    for (const std::size_t damaged : {2, 3}) {
        const auto& point = index.points[damaged];
        bytes[point.window_offset + point.window_size / 2] ^= 0x01;
    }
    write_file_atomically(dir / "a.gzi", bytes);
    auto loaded = load_gzip_index(dir / "a.gzi", gz);
    ASSERT_TRUE(loaded);
    GzipByteSource source(gz, *loaded);

    // Entered at point 1, then read in order with small gaps up to past point 3: the open
    // stream runs on and never enters the damaged points.
    const auto from = index.points[1].uncompressed_offset;
    const auto to = index.points[3].uncompressed_offset + 5000;
    for (auto offset = from; offset < to; offset += 4096)
        ASSERT_EQ(read_range(source, offset, 4000), data.substr(offset, 4000)) << offset;
    // A read behind the stream enters the point before it, damaged here.
    EXPECT_THROW(read_range(source, index.points[2].uncompressed_offset + 1, 10), ArchiveError);
}

// Sets the block type bits of the block starting at `point` to 11 (reserved): zlib's
// "invalid block type", whatever the block held.
void break_block_header(std::vector<std::uint8_t>& bytes, const GzipAccessPoint& point) {
    const std::uint64_t first_bit = point.compressed_offset * 8 - point.bits;
    for (const std::uint64_t bit : {first_bit + 1, first_bit + 2})
        bytes[bit / 8] |= static_cast<std::uint8_t>(1u << (bit % 8));
}

TEST(GzipIndex, CorruptDataIsAnArchiveErrorNamingTheFileAndTheCompressedOffset) {
    TempDir dir;
    const auto gz = dir / "a.gz";
    const auto data = mixed_bytes(600'000, 12);
    write_gzip(gz, {data});
    const auto index = build_gzip_index(gz, dir / "a.gzi", kSmallSpan);
    ASSERT_GE(index.points.size(), 3u);
    EXPECT_EQ(index.damage, "");
    const auto& broken = index.points[2];
    auto bytes = read_file(gz);
    break_block_header(bytes, broken);
    const auto built_at = fs::last_write_time(gz);
    write_file_atomically(gz, bytes);
    fs::last_write_time(gz, built_at);  // so that the index still takes it for its file

    // Read through the index: the reads before the broken block work.
    GzipByteSource source(gz, index);
    EXPECT_EQ(read_range(source, 0, 1000), data.substr(0, 1000));
    auto message =
        archive_error_of([&] { read_range(source, broken.uncompressed_offset + 5, 1000); });
    EXPECT_NE(message.find(gz.string()), std::string::npos) << message;
    auto offset = compressed_offset_in(message);
    EXPECT_GE(offset + 1, broken.compressed_offset) << message;
    EXPECT_LE(offset, broken.compressed_offset + 2) << message;

    // Indexing it gives the index of what inflates before the broken block, the damage
    // named, saved and loaded like any index.
    const auto damaged = build_gzip_index(gz, dir / "b.gzi", kSmallSpan);
    EXPECT_NE(damaged.damage.find(gz.string()), std::string::npos) << damaged.damage;
    EXPECT_NE(damaged.damage.find("corrupt gzip data"), std::string::npos) << damaged.damage;
    offset = compressed_offset_in(damaged.damage);
    EXPECT_GE(offset + 1, broken.compressed_offset) << damaged.damage;
    EXPECT_LE(offset, broken.compressed_offset + 2) << damaged.damage;
    EXPECT_LE(damaged.uncompressed_size, broken.uncompressed_offset);
    EXPECT_GE(damaged.uncompressed_size, index.points[1].uncompressed_offset);
    const auto loaded = load_gzip_index(dir / "b.gzi", gz);
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(loaded->damage, damaged.damage);
    EXPECT_EQ(loaded->uncompressed_size, damaged.uncompressed_size);
    GzipByteSource undamaged_part(gz, *loaded);
    EXPECT_EQ(read_range(undamaged_part, 0, data.size()),
              data.substr(0, damaged.uncompressed_size));
    EXPECT_FALSE(fs::exists(temporary_path_for(dir / "b.gzi")));
}

TEST(GzipIndex, AFailedChecksumLeavesNothingOfItsMember) {
    TempDir dir;
    const auto gz = dir / "a.gz";
    const auto first = mixed_bytes(300'000, 15);
    write_gzip(gz, {first, mixed_bytes(200'000, 16)});
    auto bytes = read_file(gz);
    bytes[bytes.size() - 8] ^= 0x55;  // the last member's CRC-32
    write_file_atomically(gz, bytes);
    const auto index = build_gzip_index(gz, dir / "a.gzi", kSmallSpan);
    EXPECT_NE(index.damage.find("incorrect data check"), std::string::npos) << index.damage;
    EXPECT_EQ(index.uncompressed_size, first.size());
    for (const auto& point : index.points) EXPECT_LE(point.uncompressed_offset, first.size());
    GzipByteSource source(gz, index);
    EXPECT_EQ(read_range(source, 0, 600'000), first);
}

TEST(GzipIndex, TruncatedOrForeignDataIsAnArchiveErrorAtItsOffset) {
    TempDir dir;
    const auto gz = dir / "a.gz";
    const auto first = mixed_bytes(300'000, 13);
    const auto second = mixed_bytes(1000, 14);
    write_gzip(gz, {first, second});
    const auto bytes = read_file(gz);
    const auto data = first + second;

    // Cut inside the first member, then inside the second member's trailer: what
    // inflated before the cut is kept.
    for (const std::size_t size : {bytes.size() / 2, bytes.size() - 3}) {
        write_file_atomically(dir / "cut.gz", std::span(bytes).first(size));
        const auto index = build_gzip_index(dir / "cut.gz", dir / "cut.gzi");
        const auto& message = index.damage;
        EXPECT_NE(message.find((dir / "cut.gz").string()), std::string::npos) << message;
        EXPECT_NE(message.find("truncated"), std::string::npos) << message;
        EXPECT_EQ(compressed_offset_in(message), size) << message;
        EXPECT_GT(index.uncompressed_size, size == bytes.size() / 2 ? 0u : first.size() - 1);
        GzipByteSource source(dir / "cut.gz", index);
        EXPECT_EQ(read_range(source, 0, data.size()), data.substr(0, index.uncompressed_size));
    }

    // Bytes after the last member that are no gzip member.
    auto trailing = bytes;
    for (const char c : std::string("not gzip")) trailing.push_back(static_cast<std::uint8_t>(c));
    write_file_atomically(dir / "trailing.gz", trailing);
    auto message = build_gzip_index(dir / "trailing.gz", dir / "trailing.gzi").damage;
    EXPECT_NE(message.find((dir / "trailing.gz").string()), std::string::npos) << message;
    EXPECT_GE(compressed_offset_in(message), bytes.size()) << message;

    testing::write_bytes(dir / "plain.tar", "this is not gzip data at all");
    const auto foreign = build_gzip_index(dir / "plain.tar", dir / "plain.gzi");
    EXPECT_NE(foreign.damage.find((dir / "plain.tar").string()), std::string::npos)
        << foreign.damage;
    EXPECT_LE(compressed_offset_in(foreign.damage), 2u) << foreign.damage;
    EXPECT_EQ(foreign.uncompressed_size, 0u);

    message = archive_error_of([&] { build_gzip_index(dir / "absent.gz", dir / "absent.gzi"); });
    EXPECT_NE(message.find((dir / "absent.gz").string()), std::string::npos) << message;
}

}  // namespace
}  // namespace synshard::corpus
