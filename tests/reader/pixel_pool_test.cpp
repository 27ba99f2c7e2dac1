#include "synshard/reader/pixel_pool.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

namespace synshard::reader {
namespace {

TEST(PixelPoolTest, MemoryGivenBackIsLentAgainWithItsBytesAndNeverWhileLent) {
    const auto pool = std::make_shared<PixelPool>(2);
    std::uint8_t* first = nullptr;
    {
        Pixels pixels = pool->lend(1000);
        ASSERT_EQ(pixels.size(), 1000U);
        EXPECT_TRUE(std::all_of(pixels.begin(), pixels.end(), [](auto v) { return v == 0; }));
        std::fill(pixels.begin(), pixels.end(), 7);
        first = pixels.data();
        const Pixels small = pool->lend(500);
        EXPECT_NE(small.data(), first);
    }
    const Pixels again = pool->lend(600);  // a smaller batch fits; the 500 bytes do not
    EXPECT_EQ(again.data(), first);
    EXPECT_EQ(again.size(), 600U);
    EXPECT_EQ(again.data()[599], 7);
    const Pixels larger = pool->lend(2000);
    EXPECT_NE(larger.data(), first);
    const Pixels copy = again;  // other memory, the same bytes
    EXPECT_NE(copy.data(), again.data());
    EXPECT_TRUE(copy == again);
}

TEST(PixelPoolTest, SharedMemoryIsNotLentAgainWhileAnotherProcessMapsIt) {
    const auto pool = std::make_shared<PixelPool>(4);
    std::uint8_t* first = nullptr;
    int ready[2];
    int release[2];
    ASSERT_EQ(pipe(ready), 0);
    ASSERT_EQ(pipe(release), 0);
    pid_t child = -1;
    {
        Pixels pixels = pool->lend(4096);
        first = pixels.data();
        std::fill(pixels.begin(), pixels.end(), 42);
        const int fd = pixels.share();
        child = fork();
        if (child == 0) {
            // The receiver: maps the shared descriptor (as torch does, through a dup), and
            // keeps only the mapping until told to let go.
            const int copy = dup(fd);
            void* mapped = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, copy, 0);
            close(copy);
            for (int f = 3; f < 1024; ++f) {
                if (f != ready[1] && f != release[0]) close(f);
            }
            const char verdict =
                mapped != MAP_FAILED && static_cast<std::uint8_t*>(mapped)[9] == 42 ? 'y' : 'n';
            (void)!write(ready[1], &verdict, 1);
            char done = 0;
            (void)!read(release[0], &done, 1);
            _exit(0);
        }
        ASSERT_GT(child, 0);
        char verdict = 0;
        ASSERT_EQ(read(ready[0], &verdict, 1), 1);
        EXPECT_EQ(verdict, 'y') << "the child could not read the shared memory";
    }  // given back, and this process's descriptor closed: only the child's mapping holds it
    {
        const Pixels busy = pool->lend(4096);
        EXPECT_NE(busy.data(), first) << "memory another process maps was lent again";
    }
    (void)!write(release[1], "x", 1);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    const Pixels freed = pool->lend(4096);
    EXPECT_EQ(freed.data(), first) << "memory no one holds any more was not lent again";
    for (const int fd : {ready[0], ready[1], release[0], release[1]}) close(fd);
}

TEST(PixelPoolTest, AForkedChildsCopyOfThePoolMakesNewMemory) {
    const auto pool = std::make_shared<PixelPool>(2);
    std::uint8_t* kept = nullptr;
    {
        const Pixels pixels = pool->lend(4096);
        kept = pixels.data();
    }
    const pid_t child = fork();
    if (child == 0) {
        // The parent may lend `kept` again at any time: a MAP_SHARED mapping stays shared.
        const Pixels pixels = pool->lend(4096);
        _exit(pixels.data() != kept ? 0 : 1);
    }
    ASSERT_GT(child, 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "the child was lent the parent's memory";
}

}  // namespace
}  // namespace synshard::reader
