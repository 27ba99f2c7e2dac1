#include "synshard/util/fs.hpp"

#include <gtest/gtest.h>

#include "support/test_support.hpp"
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

TEST(ReadFile, RefusesWhatIsNotARegularFile) {
    testing::TempDir dir;
    EXPECT_THROW(read_file(dir.path()), Error);
    EXPECT_THROW(read_file(dir / "absent"), Error);
}

}  // namespace
}  // namespace synshard
