#include "synshard/corpus/archive_input.hpp"

#include <gtest/gtest.h>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/corpus/file_byte_source.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/rng.hpp"

namespace synshard::corpus {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string random_bytes(std::size_t size, std::uint64_t seed) {
    Rng rng(seed);
    std::string bytes(size, '\0');
    for (auto& byte : bytes) byte = static_cast<char>(rng.next());
    return bytes;
}

void expect_same_members(const OuterListing& expected, const OuterListing& actual) {
    EXPECT_EQ(actual.failure, expected.failure);
    ASSERT_EQ(actual.members.size(), expected.members.size());
    for (std::size_t i = 0; i < expected.members.size(); ++i) {
        EXPECT_EQ(actual.members[i].header.path, expected.members[i].header.path);
        EXPECT_EQ(actual.members[i].header.declared_size, expected.members[i].header.declared_size);
        EXPECT_EQ(actual.members[i].header.mtime_ns, expected.members[i].header.mtime_ns);
        EXPECT_EQ(actual.members[i].header_offset, expected.members[i].header_offset);
        EXPECT_EQ(actual.members[i].data_offset, expected.members[i].data_offset);
    }
}

// The listing walked during the index's pass (access points every 4 KiB, so windows are
// taken while the walk reads) against the plain tar walked in place; a tar without its
// end blocks ends cleanly between members in both.
TEST(ArchiveInput, TheOuterListingWalkedDuringTheIndexPassIsThePlainTarsWalk) {
    TempDir dir;
    std::vector<testing::TarMember> members;
    for (int i = 0; i < 12; ++i) {
        const std::string name = i == 3 ? "train/" + std::string(150, 'x') + ".tar"
                                        : "train/n0" + std::to_string(i) + ".tar";
        members.push_back({name, random_bytes(3000 + 7000 * static_cast<std::size_t>(i), i)});
    }
    const fs::path tar = dir / "outer.tar";
    testing::write_tar(tar, members);
    const auto whole = read_file(tar);
    FileByteSource plain(tar);
    const OuterListing expected = walk_outer_tar(plain);
    ASSERT_EQ(expected.members.size(), members.size());
    ASSERT_EQ(expected.failure, "");
    const std::uint64_t end_of_members =
        expected.members.back().data_offset + (members.back().content.size() + 511) / 512 * 512;

    for (const std::uint64_t size : {std::uint64_t{whole.size()}, end_of_members}) {
        SCOPED_TRACE(size);
        write_file_atomically(dir / "cut.tar", std::span(whole).first(size));
        const auto gzipped = testing::run_shell("gzip -n -c '" + (dir / "cut.tar").string() +
                                                "' > '" + (dir / "cut.tar.gz").string() + "'");
        ASSERT_EQ(gzipped.exit_code, 0) << gzipped.output;
        const auto index = build_gzip_index(
            dir / "cut.tar.gz", dir / "cut.index", 4096, {},
            [](GzipPassSource& source) { return encode_outer_listing(walk_outer_tar(source)); });
        EXPECT_GE(index.points.size(), 10U);
        EXPECT_EQ(index.damage, "");
        expect_same_members(expected, decode_outer_listing(index.appendix));
        const auto loaded = load_gzip_index(dir / "cut.index", dir / "cut.tar.gz");
        ASSERT_TRUE(loaded.has_value());
        EXPECT_EQ(loaded->appendix, index.appendix);
        EXPECT_EQ(loaded->digest, index.digest);
    }
    EXPECT_THROW(decode_outer_listing("not a listing"), Error);
}

}  // namespace
}  // namespace synshard::corpus
