#include "synshard/util/interrupt.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace synshard {
namespace {

TEST(InterruptGuard, RecordsTheSignalInsteadOfDying) {
    clear_interrupt();
    {
        InterruptGuard guard;
        EXPECT_EQ(interrupt_signal(), 0);
        std::raise(SIGUSR1);
        EXPECT_EQ(interrupt_signal(), SIGUSR1);
        std::raise(SIGTERM);
        EXPECT_EQ(interrupt_signal(), SIGTERM);
    }
    clear_interrupt();
    EXPECT_EQ(interrupt_signal(), 0);
}

TEST(InterruptGuard, RestoresThePreviousHandlers) {
    struct sigaction before {};
    sigaction(SIGUSR1, nullptr, &before);
    { InterruptGuard guard; }
    struct sigaction after {};
    sigaction(SIGUSR1, nullptr, &after);
    EXPECT_EQ(before.sa_handler, after.sa_handler);
}

}  // namespace
}  // namespace synshard
