#pragma once

namespace synshard {

// While alive, SIGUSR1 (Slurm's --signal warning, forwarded by mpirun), SIGTERM and
// SIGINT only set a flag instead of killing the process, so the work loop can stop at
// the next safe point, publish nothing partial, and exit with code 4. The previous
// handlers come back when the object dies.
class InterruptGuard {
  public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;
};

// The signal that asked this process to stop, or 0.
int interrupt_signal();

// Forgets a recorded signal (tests, and a new command run in the same process).
void clear_interrupt();

}  // namespace synshard
