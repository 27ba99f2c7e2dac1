#include "synshard/h5/h5.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <numeric>
#include <thread>

#include "support/test_support.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::h5 {
namespace {

std::string error_text(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error.what();
    }
    ADD_FAILURE() << "expected an Error";
    return {};
}

TEST(H5Errors, MissingFileNamesPathAndHdf5Stack) {
    testing::TempDir dir;
    const auto path = dir / "absent.h5";
    const std::string text = error_text([&] { File::open_read_only(path); });
    EXPECT_NE(text.find("opening " + path.string()), std::string::npos) << text;
    EXPECT_NE(text.find("H5Fopen(): unable to open file"), std::string::npos) << text;
    EXPECT_NE(text.find("No such file or directory"), std::string::npos) << text;
}

TEST(H5Errors, MissingDatasetNamesFileAndObject) {
    testing::TempDir dir;
    const auto path = dir / "a.h5";
    File::create(path).publish();
    const File file = File::open_read_only(path);
    const std::string text = error_text([&] { file.open_dataset("nothing"); });
    EXPECT_NE(text.find(path.string() + ":/nothing"), std::string::npos) << text;
    EXPECT_NE(text.find("H5Dopen2()"), std::string::npos) << text;
}

TEST(H5Handles, DestructorsCloseEverythingAndAnUnpublishedFileLeavesNothing) {
    testing::TempDir dir;
    const auto path = dir / "a.h5";
    {
        File file = File::create(path);
        Group group = file.create_group("g");
        const std::int32_t values[] = {1, 2, 3};
        Dataset dataset = group.write_vector<std::int32_t>("v", values);
        // Handles left open on purpose: their destructors must release them.
    }
    EXPECT_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(H5Handles, PublishOfFileWithOpenObjectsFailsLoudlyAndLeavesNothing) {
    testing::TempDir dir;
    const auto path = dir / "a.h5";
    {
        File file = File::create(path);
        Group group = file.create_group("g");
        const std::string text = error_text([&] { file.publish(); });
        EXPECT_NE(text.find("closing " + path.string()), std::string::npos) << text;
        // The group closes first, then the file that stayed open.
    }
    EXPECT_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// The core driver grows a file's memory 4 MiB at a time; what publish() hands over and
// writes past the page cache (O_DIRECT takes page-aligned memory only) is every byte of
// it, in pages of its own.
TEST(H5Publish, HandsOverAFileGrownPastItsFirstMemoryInPageAlignedMemory) {
    testing::TempDir dir;
    std::vector<std::int32_t> values(3'000'000);
    std::iota(values.begin(), values.end(), -1'000'000);
    File file = File::create(dir / "grown.h5");
    file.write_vector<std::int32_t>("v", values).close();
    const FileImage image = file.publish();
    EXPECT_GT(image.bytes().size(), std::size_t{8} << 20);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(image.bytes().data()) %
                  static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE)),
              0U);
    EXPECT_EQ(read_file(dir / "grown.h5"),
              std::vector<std::uint8_t>(image.bytes().begin(), image.bytes().end()));
    EXPECT_EQ(File::open_read_only(dir / "grown.h5").open_dataset("v").read<std::int32_t>(),
              values);
}

// The caller's work on a file's bytes (a shard's digest) runs on its own thread while
// another thread writes them: the O_DIRECT write leaves its thread idle until the device
// has every byte.
TEST(H5Publish, RunsTheCallersWorkOnTheBytesOnItsThread) {
    testing::TempDir dir;
    File file = File::create(dir / "a.h5");
    file.write_vector<std::int32_t>("v", std::vector<std::int32_t>(100000, 3)).close();
    std::vector<std::uint8_t> seen;
    std::thread::id where;
    const FileImage image = file.publish([&](std::span<const std::uint8_t> bytes) {
        seen.assign(bytes.begin(), bytes.end());
        where = std::this_thread::get_id();
    });
    EXPECT_EQ(where, std::this_thread::get_id());
    EXPECT_EQ(seen, std::vector<std::uint8_t>(image.bytes().begin(), image.bytes().end()));
    EXPECT_EQ(read_file(dir / "a.h5"), seen);
}

TEST(H5Publish, AFailedWriteIsTheErrorThoughTheWorkAlongsideSucceeded) {
    testing::TempDir dir;
    const auto path = dir / "absent" / "a.h5";
    File file = File::create(path);
    bool worked = false;
    const std::string text =
        error_text([&] { file.publish([&](std::span<const std::uint8_t>) { worked = true; }); });
    EXPECT_TRUE(worked);
    EXPECT_NE(text.find(path.string()), std::string::npos) << text;
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// The write is never left running past publish(): the file is whole when the work's
// failure reaches the caller.
TEST(H5Publish, AFailureOfTheWorkAlongsideReachesTheCallerOnceTheFileIsWritten) {
    testing::TempDir dir;
    File file = File::create(dir / "a.h5");
    file.write_vector<std::int32_t>("v", std::vector<std::int32_t>(100000, 3)).close();
    const std::string text = error_text(
        [&] { file.publish([](std::span<const std::uint8_t>) { throw Error("digest failed"); }); });
    EXPECT_EQ(text, "digest failed");
    EXPECT_FALSE(std::filesystem::exists(dir / "a.h5.tmp"));
    EXPECT_EQ(File::open_read_only(dir / "a.h5").open_dataset("v").read<std::int32_t>(),
              std::vector<std::int32_t>(100000, 3));
}

// Also in memory that held a larger file before: a thread's next file reuses it, and
// nothing of what it held may reach the new file.
TEST(H5Publish, WritesExactlyWhatHdf5WritesToADisk) {
    testing::TempDir dir;
    {
        File earlier = File::create(dir / "earlier.h5");
        earlier.write_vector<std::int32_t>("v", std::vector<std::int32_t>(3'000'000, 0x5a5a5a5a))
            .close();
        earlier.publish();
    }
    const std::vector<std::int32_t> values(100000, 7);
    const auto fill = [&](Location& file) {
        file.set_attribute("name", "same");
        file.write_vector<std::int32_t>("v", values).close();
    };
    File in_memory = File::create(dir / "memory.h5");
    fill(in_memory);
    const FileImage image = in_memory.publish();
    EXPECT_EQ(read_file(dir / "memory.h5"),
              std::vector<std::uint8_t>(image.bytes().begin(), image.bytes().end()));
    EXPECT_FALSE(std::filesystem::exists(dir / "memory.h5.tmp"));

    // The same content through HDF5's default (sec2) driver with the same settings.
    const auto on_disk = dir / "disk.h5";
    {
        const hid_t creation = H5Fget_create_plist(File::open_read_only(dir / "memory.h5").id());
        ASSERT_GE(H5Pset_obj_track_times(creation, false), 0);  // not kept in the file
        const hid_t access = H5Pcreate(H5P_FILE_ACCESS);
        ASSERT_GE(H5Pset_libver_bounds(access, kLowBound, kHighBound), 0);
        // A Location over a file that HDF5 writes itself.
        Group file(H5Fcreate(on_disk.c_str(), H5F_ACC_TRUNC, creation, access), H5Fclose,
                   on_disk.string());
        H5Pclose(access);
        H5Pclose(creation);
        fill(file);
    }
    EXPECT_EQ(read_file(on_disk), read_file(dir / "memory.h5"));
}

TEST(H5Handles, MovedHandleIsClosedOnce) {
    Dataspace first = Dataspace::scalar();
    const hid_t id = first.id();
    Dataspace second = std::move(first);
    EXPECT_FALSE(first.valid());
    EXPECT_EQ(second.id(), id);
    second.close();
    EXPECT_FALSE(second.valid());
    EXPECT_LE(H5Iis_valid(id), 0);
}

TEST(H5RoundTrip, EveryTypeAndAttribute) {
    testing::TempDir dir;
    const auto path = dir / "a.h5";
    const std::vector<std::uint8_t> bytes = {0, 1, 255, 7, 8, 9};
    const std::vector<std::int32_t> ints = {-5, 0, 2147483647};
    const std::vector<std::uint32_t> uints = {4000000000U, 1};
    const std::vector<std::uint64_t> longs = {0, 1ULL << 40};
    const std::vector<std::int64_t> signed_longs = {-1, 1LL << 50};
    const std::vector<float> floats = {0.5f, -1.25f, 3e9f, 1.0f};
    const std::vector<std::string> fixed = {"n01440764", "ab", ""};
    const std::vector<std::string> texts = {"caf\xc3\xa9", "", "a longer string with spaces"};
    {
        File file = File::create(path);
        const hsize_t dims[] = {2, 3};
        file.write_array<std::uint8_t>("u8", bytes, dims).close();
        file.write_vector<std::int32_t>("i32", ints).close();
        file.write_vector<std::uint32_t>("u32", uints).close();
        file.write_vector<std::uint64_t>("u64", longs).close();
        file.write_vector<std::int64_t>("i64", signed_longs).close();
        const hsize_t float_dims[] = {2, 2};
        DatasetSettings deflated;
        deflated.deflate_level = 4;
        file.write_array<float>("f32", floats, float_dims, deflated).close();
        file.write_fixed_ascii("fixed", fixed, 9).close();
        file.write_strings("texts", texts).close();
        file.write_vector<std::int32_t>("empty", std::vector<std::int32_t>{}).close();
        file.set_attribute("name", "shard \xc3\xa9");
        file.set_attribute("count", std::int64_t{-42});
        file.publish();
    }
    const File file = File::open_read_only(path);
    EXPECT_EQ(file.open_dataset("u8").read<std::uint8_t>(), bytes);
    EXPECT_EQ(file.open_dataset("u8").dims(), (std::vector<hsize_t>{2, 3}));
    EXPECT_EQ(file.open_dataset("i32").read<std::int32_t>(), ints);
    EXPECT_EQ(file.open_dataset("u32").read<std::uint32_t>(), uints);
    EXPECT_EQ(file.open_dataset("u64").read<std::uint64_t>(), longs);
    EXPECT_EQ(file.open_dataset("i64").read<std::int64_t>(), signed_longs);
    EXPECT_EQ(file.open_dataset("f32").read<float>(), floats);
    EXPECT_EQ(file.open_dataset("fixed").read_strings(), fixed);
    EXPECT_EQ(file.open_dataset("texts").read_strings(), texts);
    EXPECT_EQ(file.open_dataset("texts").read_strings(1, 2),
              (std::vector<std::string>{"", "a longer string with spaces"}));
    EXPECT_TRUE(file.open_dataset("empty").read<std::int32_t>().empty());
    EXPECT_EQ(file.string_attribute("name"), "shard \xc3\xa9");
    EXPECT_EQ(file.int_attribute("count"), -42);
    EXPECT_TRUE(file.has_attribute("count"));
    EXPECT_FALSE(file.has_attribute("other"));
    EXPECT_EQ(file.child_names(), (std::vector<std::string>{"empty", "f32", "fixed", "i32", "i64",
                                                            "texts", "u32", "u64", "u8"}));
    const hsize_t start[] = {1, 1};
    const hsize_t count[] = {1, 2};
    EXPECT_EQ(file.open_dataset("u8").read<std::uint8_t>(start, count),
              (std::vector<std::uint8_t>{8, 9}));
}

TEST(H5RoundTrip, FixedUtf8IsAsLongAsTheLongestValueAndChecksummed) {
    testing::TempDir dir;
    const auto path = dir / "a.h5";
    const std::vector<std::string> keys = {"n01440764/a.JPEG", "val/caf\xc3\xa9.JPEG", "", "b"};
    {
        File file = File::create(path);
        file.write_fixed_utf8("keys", keys).close();
        file.write_fixed_utf8("none", std::vector<std::string>{}).close();
        const std::vector<std::string> with_nul = {std::string("a\0b", 3)};
        EXPECT_THROW(file.write_fixed_utf8("nul", with_nul), Error);
        file.publish();
    }
    const File file = File::open_read_only(path);
    const Dataset dataset = file.open_dataset("keys");
    EXPECT_EQ(dataset.read_strings(), keys);
    EXPECT_EQ(dataset.read_strings(1, 1), (std::vector<std::string>{"val/caf\xc3\xa9.JPEG"}));
    const Datatype type = dataset.type();
    EXPECT_EQ(H5Tis_variable_str(type.id()), 0);
    EXPECT_EQ(H5Tget_cset(type.id()), H5T_CSET_UTF8);
    EXPECT_EQ(H5Tget_strpad(type.id()), H5T_STR_NULLPAD);
    EXPECT_EQ(type.size(), std::string("n01440764/a.JPEG").size());
    EXPECT_EQ(dataset.chunk_dims(), (std::vector<hsize_t>{4}));
    const PropertyList creation(H5Dget_create_plist(dataset.id()), H5Pclose, "creation");
    EXPECT_EQ(H5Pget_nfilters(creation.id()), 1);  // Fletcher32
    EXPECT_TRUE(file.open_dataset("none").read_strings().empty());
    EXPECT_EQ(file.open_dataset("none").type().size(), 1U);
}

TEST(H5RoundTrip, RejectsTooLongFixedStringAndWrongBlockSize) {
    testing::TempDir dir;
    File file = File::create(dir / "a.h5");
    const std::vector<std::string> values = {"n0144076400"};
    EXPECT_THROW(file.write_fixed_ascii("fixed", values, 9), Error);
    const std::vector<std::int32_t> three = {1, 2, 3};
    const hsize_t dims[] = {2};
    EXPECT_THROW(file.write_array<std::int32_t>("v", three, dims), Error);
}

}  // namespace
}  // namespace synshard::h5
