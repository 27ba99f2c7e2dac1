#!/usr/bin/env bash
# Builds the tar walker's libFuzzer target on its own (the walker and the fuzz entry, no
# library: clang++ with -fsanitize=fuzzer,address,undefined) and runs it for a bounded
# time on a copy of the kept corpus tests/data/fuzz/tar, so that CI fuzzes without a
# fuzz build of everything. New interesting inputs stay in the copy; to keep one, copy it
# into tests/data/fuzz/tar by hand.
#
# Usage: run_tar_fuzz.sh WORKDIR [SECONDS]   (exit 77: no clang++ with libFuzzer here)
set -euo pipefail
work=$1
seconds=${2:-30}
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
clang=$(command -v clang++-14 || command -v clang++ || true)
if [[ -z $clang ]]; then
  echo "SKIP: no clang++ to build the libFuzzer target (bash cluster/install-deps.sh installs clang)"
  exit 77
fi
mkdir -p "$work"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' \
  >"$work/probe.cpp"
if ! "$clang" "${flags[@]}" "$work/probe.cpp" -o "$work/probe" 2>/dev/null; then
  echo "SKIP: $clang cannot build a libFuzzer target (libclang-rt-14-dev missing? bash cluster/install-deps.sh)"
  exit 77
fi
"$clang" "${flags[@]}" -I"$source_dir/include" "$source_dir/src/corpus/tar_walker.cpp" \
  "$source_dir/tests/fuzz/tar_walker_fuzz.cpp" -o "$work/tar_walker_fuzz"
rm -rf "$work/corpus"
cp -r "$source_dir/tests/data/fuzz/tar" "$work/corpus"
"$work/tar_walker_fuzz" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 \
  -print_final_stats=1 "$work/corpus"
