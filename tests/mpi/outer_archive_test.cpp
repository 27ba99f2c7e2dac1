// The downloaded archives given as they are (--input a tar of per-synset tars, --val-input
// a flat tar of val JPEGs), converted at the rank count this binary is started with:
// every rank reads its own members in place, and the shards are byte-identical to rank 0
// alone converting the extracted folders.
#include <gtest/gtest.h>

#include "mpi/run_convert.hpp"
#include "support/test_support.hpp"
#include "synshard/manifest/manifest.hpp"

namespace synshard::convert {
namespace {

namespace fs = std::filesystem;

using testing::run_convert;

std::vector<std::string> convert_args(const fs::path& train, const fs::path& val,
                                      const fs::path& corpus, const fs::path& out) {
    return {"--input",      train.string(),
            "--val-input",  val.string(),
            "--val-labels", (corpus / "LOC_val_solution.csv").string(),
            "--boxes",      (corpus / "Annotation").string(),
            "--output",     out.string(),
            "--seed",       "11",
            "--shard-size", "16",
            "--quiet",      "--max-reject-fraction",
            "0.5"};
}

TEST(OuterArchiveMpi, EveryRankReadsItsMembersInPlaceAndTheShardsAreThoseOfTheFolders) {
    testing::TempDir dir;
    mpi::Comm comm;
    const fs::path corpus = dir / "corpus";
    if (comm.is_root()) {
        const auto synth = testing::run_synshard(
            {"synth", "--output", corpus.string(), "--num-classes", "8", "--per-class", "6",
             "--val-per-class", "3", "--seed", "5", "--image-size", "64x48", "--quirks"});
        EXPECT_EQ(synth.exit_code, 0) << synth.output;
        const auto packed = testing::run_shell("cd '" + corpus.string() +
                                               "' && tar --format=gnu -cf ../train.tar train_tars "
                                               "&& cd val && tar -cf ../../val.tar .");
        EXPECT_EQ(packed.exit_code, 0) << packed.output;
    }
    comm.barrier();
    const ExitCode archives_code = run_convert(
        convert_args(dir / "train.tar", dir / "val.tar", corpus, dir / "archives"), comm);
    // The reference: rank 0 alone, from the folders.
    MPI_Comm alone = MPI_COMM_NULL;
    MPI_Comm_split(comm.get(), comm.is_root() ? 0 : MPI_UNDEFINED, 0, &alone);
    ExitCode folders_code = ExitCode::failure;
    if (alone != MPI_COMM_NULL) {
        mpi::Comm single(alone);
        folders_code = run_convert(
            convert_args(corpus / "train", corpus / "val", corpus, dir / "folders"), single);
        MPI_Comm_free(&alone);
    }
    comm.barrier();
    EXPECT_EQ(archives_code, ExitCode::completed_with_rejections);  // the quirks
    if (!comm.is_root()) return;
    EXPECT_EQ(folders_code, archives_code);
    const auto folders = manifest::read_manifest(dir / "folders" / "manifest.json");
    const auto archives = manifest::read_manifest(dir / "archives" / "manifest.json");
    for (const auto& difference : manifest::compare_shards(folders, archives)) {
        ADD_FAILURE() << manifest::describe(difference);
    }
    EXPECT_GE(folders.splits.at("train").shards.size(), 2U);
    EXPECT_EQ(testing::file_digests(dir / "folders" / "train"),
              testing::file_digests(dir / "archives" / "train"));
    EXPECT_EQ(testing::file_digests(dir / "folders" / "val"),
              testing::file_digests(dir / "archives" / "val"));
}

}  // namespace
}  // namespace synshard::convert
