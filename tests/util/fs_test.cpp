#include "synshard/util/fs.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

#include "support/test_support.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"

namespace synshard {
namespace {

TEST(AtomicWrite, PublishesCompleteFileAndLeavesNoTemporary) {
    testing::TempDir dir;
    const auto path = dir / "manifest.json";
    write_file_atomically(path, std::string_view("{\"a\":1}"));
    const auto bytes = read_file(path);
    EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "{\"a\":1}");
    EXPECT_FALSE(std::filesystem::exists(temporary_path_for(path)));
    write_file_atomically(path, std::string_view("{}"));
    EXPECT_EQ(read_file(path).size(), 2U);
}

TEST(AtomicWrite, FailureNamesThePathAndLeavesNothing) {
    testing::TempDir dir;
    const auto path = dir / "missing-dir" / "x.json";
    try {
        write_file_atomically(path, std::string_view("x"));
        FAIL() << "expected an Error";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("missing-dir/x.json.tmp"), std::string::npos)
            << error.what();
    }
    EXPECT_FALSE(std::filesystem::exists(path));
}

// "<path>.tmp" may be a user's own file: it is neither overwritten nor removed.
TEST(AtomicWrite, AFileAtTheTemporaryNameIsLeftAsItIs) {
    testing::TempDir dir;
    const auto path = dir / "picture.png";
    write_file_atomically(temporary_path_for(path), std::string_view("a user's draft"));
    try {
        write_file_atomically(path, std::string_view("new"));
        FAIL() << "expected an Error";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("picture.png.tmp already exists"),
                  std::string::npos)
            << error.what();
    }
    EXPECT_EQ(testing::read_text(temporary_path_for(path)), "a user's draft");
    EXPECT_FALSE(std::filesystem::exists(path));
}

// An index pass cut short (a job killed mid-write) leaves a temporary that begins with
// the index's magic: that one is synshard's and is replaced; any other is refused.
TEST(AtomicWrite, ALeftoverTemporaryIsReplacedOnlyWhenItIsSynshards) {
    testing::TempDir dir;
    const auto path = dir / "train.index";
    const auto temporary = temporary_path_for(path);
    const std::string_view magic_text = "synshard-index";
    const std::span magic(reinterpret_cast<const std::uint8_t*>(magic_text.data()),
                          magic_text.size());
    EXPECT_EQ(leftover_if_it_begins_with(temporary, magic), LeftoverTemporary::refuse);

    write_file_atomically(temporary, std::string_view("synshard-index, half written"));
    ASSERT_EQ(leftover_if_it_begins_with(temporary, magic), LeftoverTemporary::replace);
    write_file_atomically(path, std::string_view("whole"),
                          {.leftover = LeftoverTemporary::replace});
    EXPECT_EQ(testing::read_text(path), "whole");
    EXPECT_FALSE(std::filesystem::exists(temporary));

    write_file_atomically(temporary, std::string_view("synshard"));  // shorter than the magic
    EXPECT_EQ(leftover_if_it_begins_with(temporary, magic), LeftoverTemporary::refuse);
    std::filesystem::remove(temporary);
    std::filesystem::create_directory(temporary);
    EXPECT_EQ(leftover_if_it_begins_with(temporary, magic), LeftoverTemporary::refuse);
}

bool takes_direct_io(const std::filesystem::path& dir) {
    const auto probe = dir / "direct-probe";
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT, 0644);
    if (fd >= 0) ::close(fd);
    std::filesystem::remove(probe);
    return fd >= 0;
}

// Anonymous, page-aligned memory as HDF5's core driver holds a shard in (h5::File).
class Pages {
  public:
    explicit Pages(std::size_t size)
        : size_(std::max<std::size_t>(size, 1)),
          pages_(
              ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {
        if (pages_ == MAP_FAILED) throw_system_error("mmap", errno);
    }
    Pages(const Pages&) = delete;
    Pages& operator=(const Pages&) = delete;
    ~Pages() { ::munmap(pages_, size_); }
    std::uint8_t* data() const { return static_cast<std::uint8_t*>(pages_); }

  private:
    std::size_t size_;
    void* pages_;
};

// Shards are written once and fsynced at once: copying them through the page cache
// costs more CPU than the disk write, so their bytes go past it from their page-aligned
// memory, intact at every size. Memory O_DIRECT cannot take goes through the cache.
TEST(AtomicWrite, AnUncachedFileHasItsBytesAndLeavesThemOutOfThePageCache) {
    testing::TempDir dir;
    if (!takes_direct_io(dir.path())) {
        GTEST_SKIP() << dir.path() << "'s file system refuses O_DIRECT, which this test is about";
    }
    const std::size_t mib = std::size_t{1} << 20;
    for (const std::size_t size :
         {std::size_t{0}, std::size_t{1}, std::size_t{4095}, std::size_t{4096}, std::size_t{4097},
          4 * mib + 5, 9 * mib + 1}) {
        // One byte more, so that the same bytes also lie one byte past a page's start.
        const Pages pages(size + 1);
        for (std::size_t i = 0; i < size + 1; ++i)
            pages.data()[i] = static_cast<std::uint8_t>(i * 131 + i / 4096);
        for (const std::size_t start : {0, 1}) {
            const std::span<const std::uint8_t> bytes(pages.data() + start, size);
            const auto path =
                dir / ("shard-" + std::to_string(size) + "-" + std::to_string(start) + ".h5");
            write_file_atomically(path, bytes, {.cache = PageCache::bypass});
            if (size >= 4 * mib) {
                const std::size_t cached = cached_pages(path, 4 * mib);
                EXPECT_TRUE(start == 0 ? cached == 0 : cached > 0)
                    << size << " bytes from page offset " << start << ": " << cached
                    << " of 1024 pages cached";
            }
            const auto written = read_file(path);
            EXPECT_TRUE(std::equal(written.begin(), written.end(), bytes.begin(), bytes.end()))
                << size << " bytes from page offset " << start;
            EXPECT_FALSE(std::filesystem::exists(temporary_path_for(path)));
        }
    }
}

TEST(ReadFile, RefusesWhatIsNotARegularFile) {
    testing::TempDir dir;
    EXPECT_THROW(read_file(dir.path()), Error);
    EXPECT_THROW(read_file(dir / "absent"), Error);
}

}  // namespace
}  // namespace synshard
