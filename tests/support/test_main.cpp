// The main of every test binary. It initialises MPI (as a singleton when run bare), so
// commands can be run in-process; on ranks other than 0 it replaces gtest's printer by
// one that reports only failures, tagged with the rank; and it reduces the result so
// that every rank exits with the same code.
#include <gtest/gtest.h>
#include <mpi.h>

#include <iostream>

#include "synshard/mpi/environment.hpp"

namespace {

class RankFailurePrinter : public ::testing::EmptyTestEventListener {
  public:
    explicit RankFailurePrinter(int rank) : rank_(rank) {}

    void OnTestPartResult(const ::testing::TestPartResult& result) override {
        if (!result.failed()) return;
        std::cerr << "[rank " << rank_ << "] " << (result.file_name() ? result.file_name() : "?")
                  << ":" << result.line_number() << ": " << result.summary() << std::endl;
    }

  private:
    int rank_;
};

}  // namespace

int main(int argc, char** argv) {
    synshard::mpi::Environment environment;
    ::testing::InitGoogleTest(&argc, argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank != 0) {
        auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
        delete listeners.Release(listeners.default_result_printer());
        listeners.Append(new RankFailurePrinter(rank));
    }
    int result = RUN_ALL_TESTS();
    int worst = result;
    MPI_Allreduce(&result, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return worst;
}
