#!/usr/bin/env bash
# The README's two commands.
#   bash cluster/quickstart.sh sample   install, build, generate the sample corpus and
#                                       convert it with 2 MPI ranks
#   bash cluster/quickstart.sh test     install, build and run the whole test suite
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
[[ "$mode" == sample || "$mode" == test ]] || { echo "usage: $0 sample|test" >&2; exit 2; }

bash cluster/install-deps.sh
build=${SYNSHARD_BUILD_DIR:-build}
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j "$(nproc)" >"$build/build.log" 2>&1 ||
  { tail -n 60 "$build/build.log" >&2; exit 1; }

if [[ "$mode" == test ]]; then
  exec ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
fi

mpirun_flags=(--oversubscribe)
[[ $(id -u) -ne 0 ]] || mpirun_flags+=(--allow-run-as-root)
"$build/src/synshard" synth --config jobs/sample.ini
rm -rf sample/out
status=0
mpirun "${mpirun_flags[@]}" -np 2 "$build/src/synshard" convert --config jobs/sample.ini || status=$?
if [[ $status -ne 0 && $status -ne 3 ]]; then
  echo "quickstart: conversion failed with exit code $status" >&2
  exit "$status"
fi
echo "quickstart: sample corpus in sample/corpus, shards and manifest.json in sample/out" \
     "(exit code $status: 3 means some inputs were rejected, as the sample's traps intend)"
