#include "synshard/mpi/phase.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "synshard/mpi/comm.hpp"
#include "synshard/mpi/wait.hpp"

namespace synshard::mpi {
namespace {

TEST(Phase, AllRanksSucceedReturnsBodyResult) {
    Comm comm;
    const int value = run_phase(comm, "double", [&] { return comm.rank() * 2; });
    EXPECT_EQ(value, comm.rank() * 2);
}

TEST(Phase, OneFailingRankMakesEveryRankThrowTheSameMessage) {
    Comm comm;
    const int failing = comm.size() - 1;
    try {
        run_phase(comm, "scan", [&] {
            if (comm.rank() == failing) throw Error("cannot read n01440764.tar");
        });
        FAIL() << "expected PhaseFailure on rank " << comm.rank();
    } catch (const PhaseFailure& failure) {
        EXPECT_EQ(failure.phase(), "scan");
        EXPECT_EQ(failure.origin_rank(), failing);
        EXPECT_STREQ(failure.what(), "cannot read n01440764.tar");
        EXPECT_FALSE(failure.usage());
    }
}

TEST(Phase, LowestFailingRankWinsAndUsageErrorsStayUsageErrors) {
    Comm comm;
    try {
        run_phase(comm, "validate", [&] {
            throw UsageError("bad --shard-size on rank " + std::to_string(comm.rank()));
        });
        FAIL() << "expected PhaseFailure";
    } catch (const PhaseFailure& failure) {
        EXPECT_EQ(failure.origin_rank(), 0);
        EXPECT_STREQ(failure.what(), "bad --shard-size on rank 0");
        EXPECT_TRUE(failure.usage());
    }
}

TEST(Phase, ALateFailingRankIsWaitedForAndItsMessageReachesEveryRank) {
    Comm comm;
    const int late = comm.size() - 1;
    try {
        run_phase(comm, "late", [&] {
            if (comm.rank() != late) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            throw Error("cannot write shard 3");
        });
        FAIL() << "expected PhaseFailure on rank " << comm.rank();
    } catch (const PhaseFailure& failure) {
        EXPECT_EQ(failure.origin_rank(), late);
        EXPECT_STREQ(failure.what(), "cannot write shard 3");
    }
    // The next phase's outcomes do not mix with this one's.
    EXPECT_EQ(run_phase(comm, "after", [&] { return comm.rank() + 1; }), comm.rank() + 1);
}

TEST(PhaseEndWait, NamesTheWaitedRanks) {
    EXPECT_EQ(ranks_text({1}), "rank 1");
    EXPECT_EQ(ranks_text({1, 3}), "ranks 1, 3");
}

TEST(Comm, AllToAllDeliversEachPairsBytes) {
    Comm comm;
    std::vector<std::vector<std::uint8_t>> outgoing(static_cast<std::size_t>(comm.size()));
    for (int to = 0; to < comm.size(); ++to) {
        // Sizes differ per pair, including empty messages.
        outgoing[static_cast<std::size_t>(to)].assign(
            static_cast<std::size_t>(comm.rank() * 3 + to),
            static_cast<std::uint8_t>(comm.rank() * 16 + to));
    }
    const auto incoming = comm.all_to_all(outgoing);
    ASSERT_EQ(incoming.size(), static_cast<std::size_t>(comm.size()));
    for (int from = 0; from < comm.size(); ++from) {
        const auto& bytes = incoming[static_cast<std::size_t>(from)];
        EXPECT_EQ(bytes.size(), static_cast<std::size_t>(from * 3 + comm.rank()));
        for (auto byte : bytes) EXPECT_EQ(byte, static_cast<std::uint8_t>(from * 16 + comm.rank()));
    }
}

TEST(Comm, RootGathersEveryRanksBytesInRankOrderAndEveryRankGetsSumMaxMinAndBroadcast) {
    Comm comm;
    const std::uint8_t mine = static_cast<std::uint8_t>(comm.rank() + 1);
    const auto gathered = comm.gather(std::span(&mine, 1));
    if (comm.is_root()) {
        ASSERT_EQ(gathered.size(), static_cast<std::size_t>(comm.size()));
        for (int r = 0; r < comm.size(); ++r)
            EXPECT_EQ(gathered[static_cast<std::size_t>(r)].at(0), r + 1);
    } else {
        EXPECT_TRUE(gathered.empty());
    }
    const auto n = static_cast<std::uint64_t>(comm.size());
    EXPECT_EQ(comm.sum(static_cast<std::uint64_t>(comm.rank())), n * (n - 1) / 2);
    EXPECT_EQ(comm.max(comm.rank()), comm.size() - 1);
    EXPECT_EQ(comm.min(comm.rank()), 0);
    EXPECT_EQ(comm.broadcast(comm.is_root() ? std::string("root says") : std::string()),
              "root says");
}

}  // namespace
}  // namespace synshard::mpi
