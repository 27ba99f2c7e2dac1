#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <initializer_list>
#include <string>

#include "support/test_support.hpp"

namespace synshard::testing {

// The same small corpus (seed 7, with quirks) written by synth in each layout, as
// dir/<layout>: what the layout tests compare.
inline void synth_in_layouts(const std::filesystem::path& dir,
                             std::initializer_list<const char*> layouts) {
    for (const char* layout : layouts) {
        const auto result = run_synshard({"synth", "--output", (dir / layout).string(), "--layout",
                                          layout, "--num-classes", "3", "--per-class", "6",
                                          "--val-per-class", "2", "--seed", "7", "--quirks"});
        ASSERT_EQ(result.exit_code, 0) << layout << ": " << result.output;
    }
}

}  // namespace synshard::testing
