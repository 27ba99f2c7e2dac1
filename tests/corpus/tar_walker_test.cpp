#include "synshard/corpus/tar_walker.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/corpus/file_byte_source.hpp"
#include "synshard/corpus/listing.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::corpus {
namespace {

using Bytes = std::vector<std::uint8_t>;

struct Entry {
    Entry(std::string entry_path, std::string entry_content,
          MemberHeader::Type entry_type = MemberHeader::Type::regular,
          std::int64_t seconds = 1'600'000'000, long nanos = 0, std::string target = {})
        : path(std::move(entry_path)),
          content(std::move(entry_content)),
          type(entry_type),
          mtime_seconds(seconds),
          mtime_nanos(nanos),
          link(std::move(target)) {}
    std::string path;
    std::string content;
    MemberHeader::Type type;
    std::int64_t mtime_seconds;
    long mtime_nanos;
    std::string link;
};

// A tar written by libarchive in one of its formats (ARCHIVE_FORMAT_TAR_*).
Bytes libarchive_tar(int format, const std::vector<Entry>& entries) {
    Bytes buffer(std::size_t{1} << 20);
    std::size_t used = 0;
    archive* writer = archive_write_new();
    archive_write_set_format(writer, format);
    archive_write_set_bytes_per_block(writer, 512);
    EXPECT_EQ(archive_write_open_memory(writer, buffer.data(), buffer.size(), &used), ARCHIVE_OK);
    for (const auto& entry : entries) {
        archive_entry* header = archive_entry_new();
        archive_entry_set_pathname(header, entry.path.c_str());
        archive_entry_set_perm(header, 0644);
        archive_entry_set_mtime(header, entry.mtime_seconds, entry.mtime_nanos);
        switch (entry.type) {
            case MemberHeader::Type::regular:
                archive_entry_set_filetype(header, AE_IFREG);
                archive_entry_set_size(header, static_cast<la_int64_t>(entry.content.size()));
                break;
            case MemberHeader::Type::directory:
                archive_entry_set_filetype(header, AE_IFDIR);
                break;
            case MemberHeader::Type::symlink:
                archive_entry_set_filetype(header, AE_IFLNK);
                archive_entry_set_symlink(header, entry.link.c_str());
                break;
            case MemberHeader::Type::hardlink:
                archive_entry_set_filetype(header, AE_IFREG);
                archive_entry_set_hardlink(header, entry.link.c_str());
                break;
            case MemberHeader::Type::other:
                archive_entry_set_filetype(header, AE_IFIFO);
                break;
        }
        EXPECT_EQ(archive_write_header(writer, header), ARCHIVE_OK) << entry.path;
        if (!entry.content.empty())
            archive_write_data(writer, entry.content.data(), entry.content.size());
        archive_entry_free(header);
    }
    archive_write_close(writer);
    archive_write_free(writer);
    buffer.resize(used);
    return buffer;
}

std::vector<TarMember> walk(const Bytes& bytes, std::uint64_t begin = 0,
                            std::optional<std::uint64_t> end = std::nullopt) {
    MemoryByteSource source(bytes, "test.tar");
    TarWalker walker(source, begin, end.value_or(bytes.size()), "test.tar");
    std::vector<TarMember> members;
    while (auto member = walker.next()) members.push_back(std::move(*member));
    return members;
}

std::string data_of(const Bytes& bytes, const TarMember& member) {
    const auto start = bytes.begin() + static_cast<std::ptrdiff_t>(member.data_offset);
    return {start, start + member.header.declared_size};
}

// The message of the ArchiveError the walk throws ("" when it does not throw).
std::string walk_error(const Bytes& bytes) {
    try {
        walk(bytes);
    } catch (const ArchiveError& error) {
        return error.what();
    }
    return {};
}

const std::string kLongFolder = std::string(120, 'f') + "/";
const std::string kLongName = kLongFolder + "n01440764_" + std::string(80, 'x') + ".JPEG";

std::vector<Entry> sample_entries() {
    return {{"n01440764_1.JPEG", std::string(700, 'a')},
            {"empty.JPEG", ""},
            {kLongName, std::string(1024, 'b'), MemberHeader::Type::regular, 1'700'000'000},
            {"dir", "", MemberHeader::Type::directory},
            {"link.JPEG", "", MemberHeader::Type::symlink, 1'600'000'000, 0, kLongName},
            {"hard.JPEG", "", MemberHeader::Type::hardlink, 1'600'000'000, 0, "n01440764_1.JPEG"},
            {"fifo", "", MemberHeader::Type::other},
            {"last.JPEG", std::string(513, 'c')},
            // Too long for ustar's prefix and name: a pax path record or a GNU long name.
            {std::string(300, 'p') + "/deep.JPEG", "d"}};
}

void expect_sample_members(const Bytes& bytes, const std::string& format) {
    const auto members = walk(bytes);
    const auto entries = sample_entries();
    ASSERT_EQ(members.size(), entries.size()) << format;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& header = members[i].header;
        const std::string expected_path = entries[i].type == MemberHeader::Type::directory
                                              ? entries[i].path + "/"
                                              : entries[i].path;
        EXPECT_TRUE(header.path == expected_path || header.path == entries[i].path)
            << format << ": " << header.path;
        EXPECT_EQ(header.type, entries[i].type) << format << ": " << header.path;
        EXPECT_EQ(header.mtime_ns, entries[i].mtime_seconds * 1'000'000'000) << format;
        if (entries[i].type == MemberHeader::Type::regular) {
            EXPECT_EQ(data_of(bytes, members[i]), entries[i].content)
                << format << ": " << header.path;
        }
        EXPECT_EQ(members[i].data_offset % 512, 0U);
        EXPECT_LT(members[i].header_offset, members[i].data_offset);
    }
}

TEST(TarWalker, UstarPaxAndGnuTarsGiveTheirMembersPathsTypesTimesAndDataOffsets) {
    expect_sample_members(libarchive_tar(ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE, sample_entries()),
                          "pax");
    expect_sample_members(libarchive_tar(ARCHIVE_FORMAT_TAR_GNUTAR, sample_entries()), "gnu");
    // ustar keeps the long name's folder in its prefix field (the longest name and link
    // target do not fit it at all).
    auto ustar_entries = sample_entries();
    ustar_entries[4].link = "n01440764_1.JPEG";
    ustar_entries.pop_back();
    const auto ustar = libarchive_tar(ARCHIVE_FORMAT_TAR_USTAR, ustar_entries);
    const auto members = walk(ustar);
    ASSERT_EQ(members.size(), ustar_entries.size());
    EXPECT_EQ(members[2].header.path, kLongName);
    EXPECT_EQ(data_of(ustar, members[2]), ustar_entries[2].content);
}

TEST(TarWalker, PaxTimesKeepTheirNanosecondsAndPaxSizesOverrideTheHeader) {
    const auto bytes = libarchive_tar(
        ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE,
        {{"a.JPEG", "abc", MemberHeader::Type::regular, 1'600'000'000, 123'456'789}});
    const auto members = walk(bytes);
    ASSERT_EQ(members.size(), 1U);
    EXPECT_EQ(members[0].header.mtime_ns, 1'600'000'000'123'456'789);
    EXPECT_EQ(data_of(bytes, members[0]), "abc");
    EXPECT_LT(members[0].header_offset + 512, members[0].data_offset);  // behind the pax header
}

TEST(TarWalker, AgreesWithLibarchiveOnTheSamples) {
    testing::TempDir dir;
    for (const int format : {ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE, ARCHIVE_FORMAT_TAR_GNUTAR}) {
        const auto bytes = libarchive_tar(format, sample_entries());
        const auto path = dir / "sample.tar";
        write_file_atomically(path, bytes);
        ArchiveReader reader(path);
        for (const auto& member : walk(bytes)) {
            const auto expected = reader.next();
            ASSERT_TRUE(expected);
            EXPECT_EQ(member.header.path, expected->path);
            EXPECT_EQ(member.header.type, expected->type) << expected->path;
            EXPECT_EQ(member.header.mtime_ns, expected->mtime_ns) << expected->path;
            if (expected->type == MemberHeader::Type::regular) {
                EXPECT_EQ(member.header.declared_size, expected->declared_size);
                const auto data = reader.read_data(expected->declared_size);
                EXPECT_EQ(data_of(bytes, member), std::string(data.begin(), data.end()));
            }
        }
        EXPECT_FALSE(reader.next());
    }
}

Bytes to_bytes(const std::string& text) {
    return {text.begin(), text.end()};
}

TEST(TarWalker, Base256SizesAndARangeInsideALargerFileAreWalked) {
    const std::string inner = testing::raw_tar_header("big.JPEG", 600) + std::string(600, 'z') +
                              std::string(424 + 1024, '\0');
    const Bytes bytes = to_bytes(std::string(1024, 'q') + inner + std::string(512, 'q'));
    const auto members = walk(bytes, 1024, 1024 + inner.size());
    ASSERT_EQ(members.size(), 1U);
    EXPECT_EQ(members[0].header.declared_size, 600);
    EXPECT_EQ(members[0].data_offset, 1024U + 512U);
    EXPECT_EQ(data_of(bytes, members[0]), std::string(600, 'z'));
    // Without end blocks the range's end ends the tar.
    EXPECT_EQ(walk(bytes, 1024, 1024 + 512 + 1024).size(), 1U);
}

TEST(TarWalker, BrokenTarsAreArchiveErrorsNamingTheTarTheOffsetAndTheMember) {
    const auto good = libarchive_tar(ARCHIVE_FORMAT_TAR_USTAR,
                                     {{"a.JPEG", std::string(100, 'a')}, {"b.JPEG", "b"}});
    ASSERT_EQ(walk_error(good), "");

    auto bad_checksum = good;
    bad_checksum[1024 + 10] ^= 1;  // inside b.JPEG's name
    EXPECT_EQ(walk_error(bad_checksum),
              "test.tar: member b.JPEG: header checksum mismatch (header at offset 1024)");

    auto sparse = good;
    sparse[1024 + 156] = 'S';
    std::memset(sparse.data() + 1024 + 148, ' ', 8);
    unsigned sum = 0;
    for (std::size_t i = 1024; i < 1536; ++i) sum += sparse[i];
    std::snprintf(reinterpret_cast<char*>(sparse.data()) + 1024 + 148, 8, "%06o", sum);
    EXPECT_EQ(walk_error(sparse),
              "test.tar: member b.JPEG: unsupported member type 'S' (header at offset 1024)");

    const Bytes truncated_header(good.begin(), good.begin() + 1024 + 100);
    EXPECT_EQ(walk_error(truncated_header),
              "test.tar: truncated header: the tar ends 100 bytes into it (header at offset 1024)");

    const Bytes cut_first_header(good.begin(), good.begin() + 100);
    EXPECT_EQ(walk_error(to_bytes(testing::raw_tar_header("huge.JPEG", 20ULL << 30) +
                                  std::string(512, 'x'))),
              "test.tar: member huge.JPEG: declared size 21474836480 runs past the end of the "
              "tar (512 bytes left) (header at offset 0)");
    EXPECT_NE(walk_error(cut_first_header).find("truncated header"), std::string::npos);

    // A name no ustar header holds, so that it goes into a pax header.
    const auto pax = libarchive_tar(ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE,
                                    {{std::string(300, 'p') + ".JPEG", "x"}});
    const Bytes pax_alone(pax.begin(), pax.begin() + 1024);  // the pax header and its data
    EXPECT_NE(walk_error(pax_alone).find("extended header with no member after it"),
              std::string::npos);

    Bytes lone_zero(good.begin(), good.begin() + 1024);
    lone_zero.resize(lone_zero.size() + 512, 0);
    lone_zero.insert(lone_zero.end(), good.begin() + 1024, good.end());
    EXPECT_NE(walk_error(lone_zero).find("lone zero block"), std::string::npos);
}

TEST(TarWalker, AfterAnErrorEveryCallThrowsItAgain) {
    const Bytes bytes = to_bytes("not a tar at all");
    MemoryByteSource source(bytes, "x.tar");
    TarWalker walker(source, 0, bytes.size(), "x.tar");
    EXPECT_THROW(walker.next(), ArchiveError);
    EXPECT_THROW(walker.next(), ArchiveError);
}

TEST(TarWalker, FileByteSourceReadsInPlaceAndRefusesWhatIsNotARegularFile) {
    testing::TempDir dir;
    const auto bytes = libarchive_tar(ARCHIVE_FORMAT_TAR_GNUTAR, sample_entries());
    write_file_atomically(dir / "a.tar", bytes);
    FileByteSource file(dir / "a.tar");
    EXPECT_EQ(file.size(), bytes.size());
    TarWalker walker(file, 0, file.size(), file.name());
    std::size_t members = 0;
    while (walker.next()) ++members;
    EXPECT_EQ(members, sample_entries().size());
    EXPECT_THROW(FileByteSource(dir.path()), ArchiveError);
    EXPECT_THROW(FileByteSource(dir / "missing.tar"), ArchiveError);
}

std::string read_at(const std::filesystem::path& file, std::uint64_t offset, std::size_t size) {
    const auto bytes = read_file(file);
    return {bytes.begin() + static_cast<std::ptrdiff_t>(offset),
            bytes.begin() + static_cast<std::ptrdiff_t>(offset + size)};
}

// A synset tar read in place out of an archive is listed exactly as the same tar on its
// own: the same keys, names, sizes, times, contents and rejections.
TEST(ListingInPlace, ATarInsideAnArchiveListsAsTheSameTarOnItsOwn) {
    testing::TempDir dir;
    const auto synset_tar = dir / "train" / "n01440764.tar";
    testing::write_tar(synset_tar, {{"n01440764_1.JPEG", "good"},
                                    {"./n01440764_2.JPEG", "dot slash"},
                                    {"n01440764/n01440764_3.JPEG", "under its own folder"},
                                    {"../evil.JPEG", "escape"},
                                    {"/abs.JPEG", "absolute"},
                                    {"sub/dir/x.JPEG", "nested"},
                                    {"link.JPEG", "", testing::TarMember::Type::symlink, "/etc"},
                                    {"fifo.JPEG", "", testing::TarMember::Type::fifo},
                                    {"n01440764", "", testing::TarMember::Type::directory},
                                    {"._n01440764_1.JPEG", "apple double"},
                                    {"n01440764_1.JPEG", "again"},
                                    {"huge.JPEG", std::string(200, 'h')}});
    const auto archive = dir / "ILSVRC2012_img_train.tar";
    const auto synset_bytes = read_file(synset_tar);
    testing::write_tar(
        archive, {{"train/", "", testing::TarMember::Type::directory},
                  {"train/n01440764.tar", std::string(synset_bytes.begin(), synset_bytes.end())}});

    const auto on_its_own = discover_train(dir / "train", testing::default_wordnet());
    const auto inside = discover_train(archive, testing::default_wordnet());
    ASSERT_EQ(inside.sources.size(), 1U);
    EXPECT_TRUE(inside.rejected.empty());
    const Source& source = inside.sources[0];
    EXPECT_EQ(source.kind, Source::Kind::archive_member);
    EXPECT_EQ(source.name, "n01440764");
    EXPECT_EQ(source.wnid, "n01440764");
    EXPECT_EQ(source.key_prefix, "n01440764/");
    EXPECT_EQ(source.member, "train/n01440764.tar");
    EXPECT_EQ(source.size, synset_bytes.size());
    for (const auto mode : {FingerprintMode::stat, FingerprintMode::content}) {
        auto expected = list_source(on_its_own.sources.at(0), 100, mode);
        const auto actual = list_source(source, 100, mode);
        ASSERT_EQ(actual.items.size(), 3U);
        for (std::size_t i = 0; i < actual.items.size(); ++i) {
            const auto& item = actual.items[i];
            EXPECT_EQ(read_at(archive, item.offset, item.size),
                      read_at(synset_tar, 0, synset_bytes.size())
                          .substr(item.offset - source.offset, item.size));
            expected.items[i].offset = item.offset;
        }
        EXPECT_EQ(actual.items, expected.items);
        EXPECT_EQ(actual.rejected, expected.rejected);
        EXPECT_EQ(actual.archive_size, std::filesystem::file_size(archive));
    }
}

TEST(ListingInPlace, AFlatValTarIsOneSourceKeyedAsTheFlatValFolder) {
    testing::TempDir dir;
    testing::write_tar(dir / "val.tar", {{"./", "", testing::TarMember::Type::directory},
                                         {"./ILSVRC2012_val_00000001.JPEG", "one"},
                                         {"./ILSVRC2012_val_00000002.JPEG", "two"},
                                         {"./inner.tar", "a tar"}});
    const auto val = discover_val(dir / "val.tar", testing::default_wordnet());
    ASSERT_EQ(val.sources.size(), 1U);
    EXPECT_EQ(val.sources[0].name, "val");
    EXPECT_EQ(val.sources[0].kind, Source::Kind::archive_member);
    const auto listing = list_source(val.sources[0], 100);
    ASSERT_EQ(listing.items.size(), 2U);
    EXPECT_EQ(listing.items[0].key, "val/ILSVRC2012_val_00000001.JPEG");
    EXPECT_EQ(read_at(dir / "val.tar", listing.items[1].offset, listing.items[1].size), "two");
    ASSERT_EQ(listing.rejected.size(), 1U);
    EXPECT_EQ(listing.rejected[0].key, "val/inner.tar");
    EXPECT_EQ(listing.rejected[0].reason, Reason::archive_error);
}

// The inputs libFuzzer found interesting (tests/data/fuzz/tar, from tests/fuzz/
// run_tar_fuzz.sh): each walks to its end or stops with an ArchiveError, never anything
// else, and every member it gives lies inside the tar.
TEST(TarWalkerFuzzCorpus, EveryInputWalksOrIsAnArchiveError) {
    int files = 0;
    int walked = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator(testing::test_data_dir() / "fuzz" / "tar")) {
        const auto bytes = read_file(entry.path());
        ++files;
        MemoryByteSource source(bytes, entry.path().filename().string());
        TarWalker walker(source, 0, bytes.size(), source.name());
        try {
            while (const auto member = walker.next()) {
                EXPECT_LE(
                    member->data_offset + static_cast<std::uint64_t>(member->header.declared_size),
                    bytes.size())
                    << entry.path();
            }
            ++walked;
        } catch (const ArchiveError&) {
        }
    }
    EXPECT_GE(files, 5);
    EXPECT_GE(walked, 3);  // the seeds are valid tars
}

}  // namespace
}  // namespace synshard::corpus
