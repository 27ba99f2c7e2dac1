#include "synshard/convert/options.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "synshard/util/error.hpp"

namespace synshard::convert {
namespace {

// The manifest's "options" and the journal hold the recorded options only: every option
// of convert is either recorded or one of those that say how a run goes, never both.
TEST(RecordedOptions, AreEveryConvertOptionButThoseThatOnlySayHowARunGoes) {
    po::options_description declared;
    corpus::add_corpus_options(declared);
    image::add_pipeline_options(declared);
    add_convert_options(declared);
    const std::vector<std::string> recorded = recorded_option_names();
    for (const auto& name : recorded) {
        EXPECT_NE(declared.find_nothrow(name, /*approx=*/false), nullptr)
            << "--" << name << " is recorded but convert has no such option";
    }
    std::set<std::string> unrecorded;
    for (const auto& option : declared.options()) {
        if (std::find(recorded.begin(), recorded.end(), option->long_name()) == recorded.end())
            unrecorded.insert(option->long_name());
    }
    EXPECT_EQ(unrecorded,
              (std::set<std::string>{"archive-index", "expect-manifest", "fingerprint", "no-lock",
                                     "quiet", "restart", "resume", "scratch", "stats"}));
}

TEST(RecordedOptions, ShardOptionsRewriteShardsWhereOutputIsChangesNothingTheRestProcesses) {
    for (const char* name : {"shard-size", "train-shards", "val-shards"})
        EXPECT_EQ(option_role(name), OptionRole::write) << name;
    for (const char* name : {"output", "max-reject-fraction"})
        EXPECT_EQ(option_role(name), OptionRole::unchecked) << name;
    for (const char* name : {"input", "seed", "quality", "resize", "drop-leaks"})
        EXPECT_EQ(option_role(name), OptionRole::processing) << name;
}

TEST(ShardCountsForPlan, GiveConvertsCountsOrAUsageErrorNamingTheOptionToChange) {
    using Counts = std::array<std::uint32_t, 2>;
    EXPECT_EQ(shard_counts_for_plan({8, 0, 0}, {30, 3}), (Counts{4, 1}));
    EXPECT_EQ(shard_counts_for_plan({8, 5, 0}, {30, 0}), (Counts{5, 0}));
    const auto refusal = [](const ShardOptions& options, std::array<std::uint64_t, 2> images) {
        try {
            shard_counts_for_plan(options, images);
        } catch (const UsageError& error) {
            return std::string(error.what());
        }
        return std::string("no UsageError");
    };
    EXPECT_EQ(refusal({8, 31, 0}, {30, 3}),
              "--train-shards: asked for 31 shards but the split has only 30 samples (the plan "
              "has 30 train images)");
    EXPECT_EQ(refusal({8, 0, 2}, {30, 0}),
              "--val-shards: asked for 2 shards but the split has only 0 samples (the plan has 0 "
              "val images)");
    EXPECT_EQ(refusal({1, 0, 0}, {1000000, 0}),
              "--shard-size: more than 999999 shards: raise --shard-size (the plan has 1000000 "
              "train images)");
}

}  // namespace
}  // namespace synshard::convert
