#include "synshard/corpus/devkit.hpp"

#include <gtest/gtest.h>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::corpus {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// The classes (IDs 1..1000) a devkit numbers, by ID.
std::map<int, std::string> classes_of(const Devkit& devkit) {
    std::map<int, std::string> classes;
    for (const auto& [id, wnid] : devkit.wnid_by_id) {
        if (id <= 1000) classes.emplace(id, wnid);
    }
    return classes;
}

void pack(const TempDir& dir, const std::string& archive, const std::string& folder) {
    const auto packed =
        testing::run_shell("cd '" + dir.path().string() + "' && tar czf " + archive + " " + folder);
    ASSERT_EQ(packed.exit_code, 0) << packed.output;
}

TEST(Devkit, MetaClslocMapClslocAndTheArchiveNumberTheClassesAsMetaMat) {
    TempDir dir;
    const auto entries = testing::ilsvrc_devkit_entries();
    testing::write_meta_mat(dir / "devkit" / "data" / "meta.mat", entries);
    testing::write_meta_mat(dir / "clsloc" / "data" / "meta_clsloc.mat", entries, "ILSVRC2014_ID");
    testing::write_map_clsloc(dir / "map" / "data" / "map_clsloc.txt", entries);
    // Copies: a .mat's header holds the second it was written in.
    fs::create_directories(dir / "ILSVRC2012_devkit_t12" / "data");
    fs::copy_file(dir / "devkit" / "data" / "meta.mat",
                  dir / "ILSVRC2012_devkit_t12" / "data" / "meta.mat");
    pack(dir, "ILSVRC2012_devkit_t12.tar.gz", "ILSVRC2012_devkit_t12");
    fs::create_directories(dir / "ILSVRC2015" / "devkit" / "data");
    fs::copy_file(dir / "clsloc" / "data" / "meta_clsloc.mat",
                  dir / "ILSVRC2015" / "devkit" / "data" / "meta_clsloc.mat");
    pack(dir, "ILSVRC2015_devkit.tar.gz", "ILSVRC2015");

    const Devkit reference = read_devkit(dir / "devkit");
    const auto classes = classes_of(reference);
    ASSERT_EQ(classes.size(), 1000u);
    EXPECT_EQ(classes.at(449), "n01440764");
    EXPECT_EQ(reference.id_by_wnid.at(std::string(wordnet::kRootWnid)), 1001);

    const Devkit clsloc = read_devkit(dir / "clsloc");
    EXPECT_EQ(classes_of(clsloc), classes);
    EXPECT_EQ(clsloc.content, content_digest(read_file(dir / "clsloc/data/meta_clsloc.mat")));
    // The map names the classes only, in underscores: "n01440764 449 tench".
    const Devkit map = read_devkit(dir / "map");
    EXPECT_EQ(classes_of(map), classes);
    EXPECT_EQ(map.wnid_by_id.size(), 1000u);
    EXPECT_EQ(map.synsets[448].words, "tench");
    EXPECT_EQ(read_devkit(dir / "map" / "data" / "map_clsloc.txt").content, map.content);
    EXPECT_EQ(map.content, content_digest(read_file(dir / "map/data/map_clsloc.txt")));
    // An archive's member digests as the file it holds.
    const Devkit archive = read_devkit(dir / "ILSVRC2012_devkit_t12.tar.gz");
    EXPECT_EQ(classes_of(archive), classes);
    EXPECT_EQ(archive.content, reference.content);
    const Devkit later_archive = read_devkit(dir / "ILSVRC2015_devkit.tar.gz");
    EXPECT_EQ(classes_of(later_archive), classes);
    EXPECT_EQ(later_archive.content, clsloc.content);

    // Every form lists the same classes by ID - 1 and says where its IDs come from.
    ASSERT_EQ(reference.classes.size(), 1000u);
    EXPECT_EQ(reference.classes[448], "n01440764");
    for (const Devkit* devkit : {&clsloc, &map, &archive, &later_archive})
        EXPECT_EQ(devkit->classes, reference.classes) << devkit->describe();
    EXPECT_EQ(reference.describe(),
              "ILSVRC2012_ID of " + (dir / "devkit" / "data" / "meta.mat").string());
    EXPECT_EQ(clsloc.id_field, "ILSVRC2014_ID");
    EXPECT_EQ(map.describe(), "the IDs of " + (dir / "map" / "data" / "map_clsloc.txt").string());
    EXPECT_EQ(archive.member, "ILSVRC2012_devkit_t12/data/meta.mat");
    EXPECT_EQ(archive.describe(), "ILSVRC2012_ID of ILSVRC2012_devkit_t12/data/meta.mat in " +
                                      (dir / "ILSVRC2012_devkit_t12.tar.gz").string());
    EXPECT_EQ(later_archive.member, "ILSVRC2015/devkit/data/meta_clsloc.mat");
}

// What read_devkit threw, or "" if it read the devkit.
std::string failure(const fs::path& devkit) {
    try {
        read_devkit(devkit);
    } catch (const Error& error) {
        return error.what();
    }
    return {};
}

TEST(Devkit, BrokenDevkitsAreErrorsNamingTheFile) {
    TempDir dir;
    testing::write_map_clsloc(dir / "map_clsloc.txt", {{1, "n01440764", "tench"}});
    EXPECT_EQ(failure(dir / "map_clsloc.txt"), "");
    const auto fails_with = [&](const std::string& map, const std::string& message) {
        testing::write_bytes(dir / "bad" / "map_clsloc.txt", map);
        const std::string what = failure(dir / "bad");
        EXPECT_NE(what.find(message), std::string::npos) << what;
        EXPECT_NE(what.find("map_clsloc.txt"), std::string::npos) << what;
    };
    fails_with("n01440764 1 tench\nn01443537 two goldfish\n", "map_clsloc.txt:2:");
    fails_with("n01440764 1 tench\nn01443537 2\n", "map_clsloc.txt:2:");
    fails_with("n01440764 1 tench\n\nn01443537 3 goldfish\n", "no ID 2");
    fails_with("n01440764 1 tench\nn01440764 2 tench\n", "unique");

    testing::write_meta_mat(dir / "no_id" / "data" / "meta.mat", {{1, "n01440764", "tench"}}, "ID");
    EXPECT_NE(failure(dir / "no_id").find("no ILSVRC20??_ID field"), std::string::npos)
        << failure(dir / "no_id");

    testing::write_bytes(dir / "empty" / "README", "no devkit file here");
    EXPECT_NE(failure(dir / "empty").find("no data/meta.mat, data/meta_clsloc.mat"),
              std::string::npos)
        << failure(dir / "empty");
    pack(dir, "empty.tar.gz", "empty");
    EXPECT_NE(failure(dir / "empty.tar.gz").find("holds no meta.mat"), std::string::npos)
        << failure(dir / "empty.tar.gz");
}

}  // namespace
}  // namespace synshard::corpus
