#include "synshard/util/reason.hpp"

#include <gtest/gtest.h>

#include <set>

namespace synshard {
namespace {

TEST(Reason, EveryReasonRoundTripsThroughItsName) {
    std::set<std::string_view> names;
    for (Reason reason : all_reasons()) {
        const auto name = to_string(reason);
        EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
        EXPECT_EQ(parse_reason(name), reason);
    }
    EXPECT_EQ(names.size(), 16U);
    EXPECT_EQ(parse_reason("unsupported_format"), std::nullopt);
    EXPECT_EQ(to_string(Reason::unsupported_format), "unsupported-format");
}

TEST(Reason, OnlyChosenCleanupsKeepExitCodeZero) {
    std::set<Reason> cleanups;
    for (Reason reason : all_reasons()) {
        if (is_chosen_cleanup(reason)) cleanups.insert(reason);
    }
    EXPECT_EQ(cleanups, (std::set<Reason>{Reason::hidden, Reason::duplicate,
                                          Reason::class_too_small, Reason::over_class_cap}));
}

}  // namespace
}  // namespace synshard
