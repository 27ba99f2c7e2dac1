// The layout-equivalence test: the same synth corpus as per-synset tars in a folder, as
// the downloaded archives given as they are (--input a tar of per-synset tars, plain or
// gzipped, --val-input a flat tar of val JPEGs) and as Kaggle's copy, converted at the rank
// count this binary is started with: every rank reads its own images (members in place),
// and the shards are byte-identical to rank 0 alone converting the extracted folders.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "mpi/run_convert.hpp"
#include "support/test_support.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/survey/survey.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::convert {
namespace {

namespace fs = std::filesystem;

using testing::run_convert;

// The file's inode: a file saved again (written aside, then renamed over it) gets another.
ino_t inode_of(const fs::path& path) {
    struct stat status {};
    EXPECT_EQ(::stat(path.c_str(), &status), 0) << path;
    return status.st_ino;
}

// Where one layout of the corpus keeps its images and annotations.
struct Layout {
    std::string name;
    fs::path train;
    fs::path val;
    fs::path corpus;  // the folder of LOC_val_solution.csv
    fs::path boxes;
};

std::vector<std::string> convert_args(const Layout& layout, const fs::path& out) {
    return {"--input",      layout.train.string(),
            "--val-input",  layout.val.string(),
            "--val-labels", (layout.corpus / "LOC_val_solution.csv").string(),
            "--boxes",      layout.boxes.string(),
            "--output",     out.string(),
            "--seed",       "11",
            "--shard-size", "16",
            "--quiet",      "--max-reject-fraction",
            "0.5"};
}

TEST(OuterArchiveMpi, EveryLayoutAtEveryRankCountGivesTheShardsOfTheFolders) {
    testing::TempDir dir;
    mpi::Comm comm;
    const fs::path corpus = dir / "corpus";
    const fs::path kaggle = dir / "kaggle-corpus";
    if (comm.is_root()) {
        for (const auto& [layout, output] : {std::pair{"ilsvrc", corpus}, {"kaggle", kaggle}}) {
            const auto synth =
                testing::run_synshard({"synth", "--output", output.string(), "--layout", layout,
                                       "--num-classes", "8", "--per-class", "6", "--val-per-class",
                                       "3", "--seed", "5", "--image-size", "64x48", "--quirks"});
            EXPECT_EQ(synth.exit_code, 0) << synth.output;
        }
        const auto packed = testing::run_shell(
            "cd '" + corpus.string() +
            "' && tar --format=gnu -cf ../train.tar train_tars && cd val && tar -cf ../../val.tar "
            ". && gzip -c ../../train.tar > ../../train.tar.gz");
        EXPECT_EQ(packed.exit_code, 0) << packed.output;
    }
    comm.barrier();
    const fs::path kaggle_data = kaggle / "ILSVRC" / "Data" / "CLS-LOC";
    const std::vector<Layout> layouts{
        {"tars", corpus / "train_tars", corpus / "val", corpus, corpus / "Annotation"},
        {"tar-of-tars", dir / "train.tar", dir / "val.tar", corpus, corpus / "Annotation"},
        {"tar-of-tars-gz", dir / "train.tar.gz", dir / "val.tar", corpus, corpus / "Annotation"},
        // No --archive-index: rank 0 keeps the index in OUT, where every rank reads it.
        {"tar-of-tars-gz-in-out", dir / "train.tar.gz", dir / "val.tar", corpus,
         corpus / "Annotation"},
        // The inner tars' walks saved at --archive-index by the first run, read by the second.
        {"tar-of-tars-listed", dir / "train.tar", dir / "val.tar", corpus, corpus / "Annotation"},
        {"tar-of-tars-relisted", dir / "train.tar", dir / "val.tar", corpus, corpus / "Annotation"},
        {"kaggle", kaggle_data / "train", kaggle_data / "val", kaggle,
         kaggle / "ILSVRC" / "Annotations" / "CLS-LOC" / "train"}};
    std::vector<ExitCode> codes;
    ino_t listed_inode = 0;
    for (const auto& layout : layouts) {
        auto args = convert_args(layout, dir / layout.name);
        if (layout.name == "tar-of-tars-gz")
            args.insert(args.end(), {"--archive-index", (dir / "train.index").string()});
        if (layout.name.ends_with("listed"))
            args.insert(args.end(), {"--archive-index", (dir / "train.listings").string()});
        codes.push_back(run_convert(args, comm));
        if (comm.is_root() && layout.name == "tar-of-tars-listed")
            listed_inode = inode_of(dir / "train.listings");
    }
    // The reference: rank 0 alone, from the folders.
    MPI_Comm alone = MPI_COMM_NULL;
    MPI_Comm_split(comm.get(), comm.is_root() ? 0 : MPI_UNDEFINED, 0, &alone);
    ExitCode folders_code = ExitCode::failure;
    if (alone != MPI_COMM_NULL) {
        mpi::Comm single(alone);
        folders_code = run_convert(convert_args({"folders", corpus / "train", corpus / "val",
                                                 corpus, corpus / "Annotation"},
                                                dir / "folders"),
                                   single);
        MPI_Comm_free(&alone);
    }
    comm.barrier();
    if (!comm.is_root()) return;
    EXPECT_EQ(folders_code, ExitCode::completed_with_rejections);  // the quirks
    const auto folders = manifest::read_manifest(dir / "folders" / "manifest.json");
    EXPECT_GE(folders.splits.at("train").shards.size(), 2U);
    // OUT's index goes when the run is complete; the user's files stay.
    EXPECT_FALSE(fs::exists(dir / "tar-of-tars-gz-in-out" / "archive.index"));
    EXPECT_TRUE(fs::exists(dir / "train.index"));
    EXPECT_TRUE(fs::exists(dir / "train.listings"));
    // The second run walked no inner tar: it saved nothing.
    EXPECT_EQ(inode_of(dir / "train.listings"), listed_inode);
    for (std::size_t i = 0; i < layouts.size(); ++i) {
        const auto& name = layouts[i].name;
        EXPECT_EQ(codes[i], folders_code) << name;
        if (!fs::exists(dir / name / "manifest.json")) {
            ADD_FAILURE() << name << " wrote no manifest";
            continue;
        }
        const auto converted = manifest::read_manifest(dir / name / "manifest.json");
        for (const auto& difference : manifest::compare_shards(folders, converted)) {
            ADD_FAILURE() << name << ": " << manifest::describe(difference);
        }
        EXPECT_EQ(testing::file_digests(dir / "folders" / "train"),
                  testing::file_digests(dir / name / "train"))
            << name;
        EXPECT_EQ(testing::file_digests(dir / "folders" / "val"),
                  testing::file_digests(dir / name / "val"))
            << name;
    }
}

// The walks of the inner tars reach the saved file a round at a time (here one walk a round:
// the walks every rank holds interleave), yet the file holds the very bytes rank 0 alone
// saves in one round, and the next plan reuses it, saving nothing.
TEST(OuterArchiveMpi, SavedListingsAreTheSameBytesAtEveryRankCountAndAreReused) {
    testing::TempDir dir;
    mpi::Comm comm;
    if (comm.is_root()) {
        const auto synth = testing::run_synshard(
            {"synth", "--output", (dir / "corpus").string(), "--num-classes", "8", "--per-class",
             "5", "--val-per-class", "1", "--seed", "6", "--image-size", "48x32"});
        EXPECT_EQ(synth.exit_code, 0) << synth.output;
        const auto packed = testing::run_shell("cd '" + (dir / "corpus").string() +
                                               "' && tar --format=gnu -cf ../train.tar train_tars");
        EXPECT_EQ(packed.exit_code, 0) << packed.output;
    }
    comm.barrier();
    corpus::CorpusOptions options;
    options.input = dir / "train.tar";
    options.seed = 2;
    options.archive_index = dir / "everyone.listings";
    const auto everyone = survey::make_plan(options, comm, /*save_round_bytes=*/1);
    ino_t saved_inode = 0;
    if (comm.is_root()) {
        mpi::Comm alone(MPI_COMM_SELF);
        auto own = options;
        own.archive_index = dir / "alone.listings";
        const auto reference = survey::make_plan(own, alone);
        EXPECT_EQ(reference.plan.images, everyone.plan.images);
        const auto saved = read_file(dir / "everyone.listings");
        EXPECT_GT(saved.size(), 8U * 5 * 20);  // a walk of every inner tar
        EXPECT_TRUE(saved == read_file(dir / "alone.listings"))
            << "the listings saved by " << comm.size() << " ranks differ from rank 0's alone";
        saved_inode = inode_of(dir / "everyone.listings");
    }
    const auto again = survey::make_plan(options, comm, 1);
    EXPECT_EQ(plan::to_json(again.plan, again.rejected),
              plan::to_json(everyone.plan, everyone.rejected));
    if (comm.is_root()) {
        EXPECT_EQ(inode_of(dir / "everyone.listings"), saved_inode);
    }
}

}  // namespace
}  // namespace synshard::convert
