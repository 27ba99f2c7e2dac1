#!/usr/bin/env bash
# CI: builds everything with -fsanitize=address,undefined (SYNSHARD_SANITIZE=ON) in its
# own build directory and runs the unit and MPI tests under ASan, UBSan and LSan.
# Leaks inside Open MPI, PMIx and hwloc are suppressed by cmake/lsan.supp, nothing else.
# Lint, the Python checks and the README examples (which run on the Python tests' sample
# output) test no C++ of ours; the fault tests run whole conversions in subprocesses and
# are the slowest tests: they run in the normal build only.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
build="${SYNSHARD_SANITIZE_BUILD:-build-sanitize}"
start=$(date +%s)

# Set before the build too: gtest_discover_tests runs the test binaries after linking.
# intercept_tls_get_addr=0: GCC 12's ASan guesses where a dlopen()ed library's TLS block
# starts from its address alone; in one rank of the 4-rank convert test it guessed a
# block of 16 GiB ("DTLS 19 at 0x4a90-0x400005b92") and LeakSanitizer's tracer died
# reading it (SIGSEGV). Without the interception, the static TLS of every library loaded
# at start (ours, OpenCV's and GDAL's included) is still scanned; only blocks of
# libraries loaded later (Open MPI's components, suppressed anyway) are not.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:print_stacktrace=1:strict_string_checks=1:detect_stack_use_after_return=1:fast_unwind_on_malloc=0:verify_asan_link_order=0:intercept_tls_get_addr=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$root/cmake/lsan.supp:print_suppressions=0"

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYNSHARD_SANITIZE=ON \
      -DSYNSHARD_BUILD_BENCHMARKS=OFF -DSYNSHARD_TEST_TIMEOUT_FACTOR=4
# Open MPI's components stay mapped until exit, so that their leaks carry their names.
mkdir -p "$build"
cc -shared -fPIC -O1 -o "$build/keep_libraries_loaded.so" tests/support/keep_libraries_loaded.c
export LD_PRELOAD="$(realpath "$build")/keep_libraries_loaded.so"
cmake --build "$build" -j2

# These options must still catch a leak: a program that loses memory has to fail.
printf 'int main() { int* volatile lost = new int[16]; lost = nullptr; return 0; }\n' |
    c++ -x c++ -fsanitize=address,undefined -o "$build/leak_canary" -
if "$build/leak_canary" 2> "$build/leak_canary.log" || ! grep -q 'detected memory leaks' "$build/leak_canary.log"; then
    echo "sanitize: LeakSanitizer did not report a deliberate leak; see $build/leak_canary.log" >&2
    exit 1
fi

cd "$build"
ctest --output-on-failure -j2 -E '^(Lint\.|Python\.|Docs\.|Serial\.Faults)'
echo "sanitize: passed in $(( $(date +%s) - start )) s"
