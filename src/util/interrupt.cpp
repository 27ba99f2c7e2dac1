#include "synshard/util/interrupt.hpp"

#include <array>
#include <csignal>

namespace synshard {
namespace {

volatile std::sig_atomic_t requested_signal = 0;

constexpr std::array<int, 3> kSignals{SIGUSR1, SIGTERM, SIGINT};
std::array<struct sigaction, kSignals.size()> previous_actions{};

extern "C" void record_signal(int signal_number) {
    requested_signal = signal_number;
}

}  // namespace

InterruptGuard::InterruptGuard() {
    struct sigaction action {};
    action.sa_handler = record_signal;
    sigemptyset(&action.sa_mask);
    // No SA_RESTART: a blocking read returns EINTR and the loop sees the flag sooner.
    action.sa_flags = 0;
    for (std::size_t i = 0; i < kSignals.size(); ++i) {
        sigaction(kSignals[i], &action, &previous_actions[i]);
    }
}

InterruptGuard::~InterruptGuard() {
    for (std::size_t i = 0; i < kSignals.size(); ++i) {
        sigaction(kSignals[i], &previous_actions[i], nullptr);
    }
}

int interrupt_signal() {
    return requested_signal;
}

void clear_interrupt() {
    requested_signal = 0;
}

}  // namespace synshard
