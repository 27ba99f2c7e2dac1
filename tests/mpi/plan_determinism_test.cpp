// The plan is the same at every rank count and for folders vs tars: the test compares the
// plan made by all ranks with one made by the root alone (on MPI_COMM_SELF), in the same
// run, at 1, 2, 3 and 4 ranks.
#include <gtest/gtest.h>

#include <sstream>

#include "corpus/corpus_fixture.hpp"
#include "support/test_support.hpp"
#include "synshard/mpi/comm.hpp"
#include "synshard/survey/survey.hpp"

namespace synshard::survey {
namespace {

// One line per item (key, split, label, hash, size, boxes), gathered on the root, sorted.
std::string items_digest(const PlanResult& result, const mpi::Comm& comm) {
    std::vector<std::string> lines;
    for (std::size_t piece = 0; piece < result.share.pieces.size(); ++piece) {
        for (const auto& item : result.share_items(piece)) {
            std::ostringstream line;
            line << item.key << " " << to_string(item.split) << " " << item.label << " "
                 << item.hash << " " << item.size << " " << item.boxes.size() << "\n";
            lines.push_back(line.str());
        }
    }
    std::string mine;
    for (const auto& line : lines) mine += line;
    const auto gathered =
        comm.gather(std::span(reinterpret_cast<const std::uint8_t*>(mine.data()), mine.size()));
    std::vector<std::string> all;
    for (const auto& bytes : gathered) {
        std::istringstream in(std::string(bytes.begin(), bytes.end()));
        for (std::string line; std::getline(in, line);) all.push_back(line);
    }
    std::sort(all.begin(), all.end());
    std::string digest;
    for (const auto& line : all) digest += line + "\n";
    return digest;
}

nlohmann::json without_partition(const PlanResult& result) {
    auto json = plan::to_json(result.plan, result.rejected);
    json.erase("partition");
    json.erase("sources");  // folder vs tar kinds differ
    return json;
}

TEST(PlanDeterminism, SameAtEveryRankCountAndForFoldersAndTars) {
    mpi::Comm comm;
    testing::TempDir dir;
    if (comm.is_root()) testing::make_quirky_corpus(dir.path());
    comm.barrier();
    corpus::CorpusOptions options;
    options.seed = 11;
    options.val_input = dir / "val";
    options.val_labels = dir / "LOC_val_solution.csv";
    options.boxes = {dir / "Annotation"};
    options.max_per_class = 10;
    options.min_per_class = 4;

    std::vector<nlohmann::json> jsons;
    std::vector<std::string> digests;
    for (const char* layout : {"dirs", "tars"}) {
        options.input = dir / layout;
        const PlanResult everyone = make_plan(options, comm);
        // Each rank holds exactly the pieces the partition gives it.
        EXPECT_EQ(everyone.share.pieces, everyone.plan.pieces_of(comm.rank()));
        for (std::size_t i = 0; i < everyone.share.pieces.size(); ++i) {
            const plan::Piece& piece = everyone.plan.pieces[everyone.share.pieces[i]];
            EXPECT_EQ(everyone.share_items(i).size(), piece.end - piece.begin);
        }
        const std::string digest = items_digest(everyone, comm);
        if (comm.is_root()) {
            mpi::Comm alone(MPI_COMM_SELF);
            const PlanResult reference = make_plan(options, alone);
            EXPECT_EQ(without_partition(everyone), without_partition(reference)) << layout;
            EXPECT_EQ(digest, items_digest(reference, alone)) << layout;
            EXPECT_EQ(everyone.rejected, reference.rejected);
            // What every rank read (WordNet, the CSV) is one input, whatever the rank count.
            EXPECT_EQ(everyone.resume_fingerprint, reference.resume_fingerprint) << layout;
            jsons.push_back(without_partition(everyone));
            digests.push_back(digest);
        }
        comm.barrier();
    }
    if (comm.is_root()) {
        ASSERT_EQ(jsons.size(), 2u);
        // The tar layout has the same quirks at its root but no per-file differences.
        EXPECT_EQ(jsons[0]["classes"], jsons[1]["classes"]);
        EXPECT_EQ(jsons[0]["splits"], jsons[1]["splits"]);
        EXPECT_EQ(jsons[0]["rejected"], jsons[1]["rejected"]);
        EXPECT_EQ(digests[0], digests[1]);
        EXPECT_FALSE(digests[0].empty());
    }
}

}  // namespace
}  // namespace synshard::survey
