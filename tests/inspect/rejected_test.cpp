// inspect --rejected and the tab-separated lines of inspect and locate, on a real output.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "reader/converted_output.hpp"
#include "support/test_support.hpp"
#include "synshard/cli/tab_separated.hpp"
#include "synshard/reader/dataset.hpp"

namespace synshard::reader {
namespace {

using testing::run_synshard;

std::string rejection_line(const Rejection& rejection) {
    return cli::tab_field(rejection.key) + "\t" + std::string(to_string(rejection.reason)) + "\t" +
           cli::tab_field(rejection.detail) + "\n";
}

class InspectAndLocate : public ::testing::Test {
  protected:
    void SetUp() override { out_ = testing::write_converted_output(dir_.path()); }
    testing::TempDir dir_;
    std::filesystem::path out_;
};

TEST_F(InspectAndLocate, RejectedListsEveryRejectedKeyWithItsReasonAndDetail) {
    const Dataset dataset(out_);
    const auto& rejected = dataset.manifest().rejected;
    ASSERT_GT(rejected.size(), 1U) << "the quirks corpus has rejects";
    const auto listed = run_synshard({"inspect", out_.string(), "--rejected"});
    ASSERT_EQ(listed.exit_code, 0) << listed.output;
    std::string expected;
    for (const auto& rejection : rejected) expected += rejection_line(rejection);
    EXPECT_EQ(listed.output, expected);

    // The operand may follow the switch.
    const auto before = run_synshard({"inspect", "--rejected", out_.string()});
    EXPECT_EQ(before.output, expected);
}

TEST_F(InspectAndLocate, RejectedWithAReasonListsOnlyItsKeysAsTextOrJson) {
    const Dataset dataset(out_);
    const Rejection& first = dataset.manifest().rejected.front();
    const std::string reason(to_string(first.reason));
    std::string expected;
    nlohmann::json array = nlohmann::json::array();
    for (const auto& rejection : dataset.manifest().rejected) {
        if (rejection.reason != first.reason) continue;
        expected += rejection_line(rejection);
        array.push_back({{"key", rejection.key}, {"reason", reason}, {"detail", rejection.detail}});
    }
    const auto listed = run_synshard({"inspect", out_.string(), "--rejected", reason});
    ASSERT_EQ(listed.exit_code, 0) << listed.output;
    EXPECT_EQ(listed.output, expected);
    const auto json = run_synshard({"inspect", out_.string(), "--rejected", reason, "--json", "-"});
    ASSERT_EQ(json.exit_code, 0) << json.output;
    EXPECT_EQ(nlohmann::json::parse(json.output), array);
}

TEST_F(InspectAndLocate, RejectedWithAnUnknownReasonIsAUsageErrorListingTheValidOnes) {
    const auto listed = run_synshard({"inspect", out_.string(), "--rejected", "too_small"});
    EXPECT_EQ(listed.exit_code, 2) << listed.output;
    std::string valid;
    for (const Reason reason : all_reasons())
        valid += (valid.empty() ? "" : ", ") + std::string(to_string(reason));
    EXPECT_NE(listed.output.find("--rejected too_small: no such reason; the reasons are " + valid),
              std::string::npos)
        << listed.output;
}

TEST_F(InspectAndLocate, LocateKeepsAKeyHoldingANewlineOrTabOneFieldOfOneLine) {
    const auto missing = run_synshard({"locate", out_.string(), "n01440764/a\nb\tc.JPEG"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_EQ(missing.output, "n01440764/a\\nb\\tc.JPEG\tnot found\tin no split of the output\n");
    EXPECT_EQ(cli::tab_field("a\\b\r"), "a\\\\b\\r");
}

TEST_F(InspectAndLocate, TheSummaryCountsInWords) {
    const auto summary = run_synshard({"inspect", out_.string()});
    ASSERT_EQ(summary.exit_code, 0) << summary.output;
    EXPECT_EQ(summary.output.find("(s)"), std::string::npos) << summary.output;
    EXPECT_NE(summary.output.find("5 classes"), std::string::npos) << summary.output;
    EXPECT_NE(summary.output.find(" of inputs with identical bytes"), std::string::npos)
        << summary.output;
}

TEST_F(InspectAndLocate, HierarchyAndInspectClassPrintThePathsAlike) {
    const auto hierarchy = run_synshard({"hierarchy", "n01440764"});
    ASSERT_EQ(hierarchy.exit_code, 0) << hierarchy.output;
    const auto inspected = run_synshard({"inspect", out_.string(), "--class", "n01440764"});
    ASSERT_EQ(inspected.exit_code, 0) << inspected.output;
    const std::string path =
        "    entity > physical entity > object > whole > living thing > organism > animal > "
        "chordate > vertebrate > aquatic vertebrate > fish > bony fish > teleost fish > "
        "soft-finned fish > cypriniform fish > cyprinid > tench\n";
    EXPECT_NE(hierarchy.output.find(path), std::string::npos) << hierarchy.output;
    EXPECT_NE(inspected.output.find(path), std::string::npos) << inspected.output;
    EXPECT_NE(hierarchy.output.find("1 hypernym path from the root:"), std::string::npos)
        << hierarchy.output;
    EXPECT_NE(inspected.output.find("1 path from the root:"), std::string::npos)
        << inspected.output;
}

}  // namespace
}  // namespace synshard::reader
