#pragma once

// Shared by the convert command tests: a small synth corpus (3 classes, 5 train and 2
// val images each, 96x64) and a one-rank `synshard convert` of it run as a separate
// process.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace synshard::testing {

class ConvertFixture : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto synth = run_synshard({"synth", "--output", corpus().string(), "--num-classes",
                                         "3", "--per-class", "5", "--val-per-class", "2",
                                         "--image-size", "96x64", "--seed", "8"});
        ASSERT_EQ(synth.exit_code, 0) << synth.output;
    }

    std::filesystem::path corpus() const { return dir_ / "corpus"; }

    // The corpus's input options: train folders, the flat val folder and its labels.
    std::vector<std::string> input_options() const {
        return {"--input",      (corpus() / "train").string(),
                "--val-input",  (corpus() / "val").string(),
                "--val-labels", (corpus() / "LOC_val_solution.csv").string()};
    }

    ProcessResult convert(const std::filesystem::path& out, std::vector<std::string> extra = {},
                          int ranks = 0) const {
        std::vector<std::string> args{"convert"};
        const auto inputs = input_options();
        args.insert(args.end(), inputs.begin(), inputs.end());
        args.insert(args.end(), {"--resize", "shorter:32", "--output", out.string()});
        args.insert(args.end(), extra.begin(), extra.end());
        return ranks == 0 ? run_synshard(args) : run_synshard_mpi(ranks, args);
    }

    TempDir dir_;
};

}  // namespace synshard::testing
