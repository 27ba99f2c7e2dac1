#pragma once

// A real converted output for reader and command tests: a small synth corpus with the
// known traps (quirks), converted single-rank by the built synshard.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/test_support.hpp"

namespace synshard::testing {

// 5 classes (tench, goldfish, sea snake, tabby, barber chair) of about 7 train images and 2
// val images each, resized to shorter side 64, 10-image train shards, 2 val shards. Writes
// dir/corpus and dir/out; returns dir/out. Records a test failure (with the commands' output)
// unless synth exits 0 and convert 0 or 3.
inline std::filesystem::path write_converted_output(const std::filesystem::path& dir,
                                                    const std::string& encoding = "jpeg") {
    const std::string corpus = (dir / "corpus").string();
    const std::filesystem::path out = dir / "out";
    const ProcessResult synth =
        run_synshard({"synth", "--output", corpus, "--num-classes", "5", "--per-class", "7",
                      "--val-per-class", "2", "--seed", "7", "--quirks"});
    EXPECT_EQ(synth.exit_code, 0) << synth.output;
    std::vector<std::string> convert{"convert",
                                     "--input",
                                     corpus + "/train",
                                     "--val-input",
                                     corpus + "/val",
                                     "--val-labels",
                                     corpus + "/LOC_val_solution.csv",
                                     "--boxes",
                                     corpus + "/Annotation",
                                     "--output",
                                     out.string(),
                                     "--seed",
                                     "7",
                                     "--shard-size",
                                     "10",
                                     "--val-shards",
                                     "2",
                                     "--max-reject-fraction",
                                     "1",
                                     "--encoding",
                                     encoding,
                                     "--resize",
                                     encoding == "raw" ? "fit:80x64" : "shorter:64",
                                     "--quiet"};
    const ProcessResult converted = run_synshard(convert);
    EXPECT_TRUE(converted.exit_code == 0 || converted.exit_code == 3) << converted.output;
    return out;
}

}  // namespace synshard::testing
