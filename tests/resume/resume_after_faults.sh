#!/usr/bin/env bash
# Issue 6's fault table, resume rows: a conversion stopped by SIGUSR1, by SIGTERM through
# `timeout`, or by kill -9 of the whole job never leaves a partial file under a final
# name, and a rerun (at another rank count) finishes with shards byte-identical to an
# uninterrupted run. A rerun after an input changed is refused.
# Usage: resume_after_faults.sh SYNSHARD_EXECUTABLE
set -uo pipefail
synshard=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpirun=(mpirun --oversubscribe)
[[ $(id -u) -ne 0 ]] || mpirun+=(--allow-run-as-root)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$synshard" synth --output "$work/corpus" --num-classes 10 --per-class 30 --seed 4 --quirks >/dev/null ||
  { echo "FAIL: synth"; exit 1; }
args=(convert --input "$work/corpus/train" --val-input "$work/corpus/val"
      --val-labels "$work/corpus/LOC_val_solution.csv" --boxes "$work/corpus/Annotation"
      --seed 3 --shard-size 6 --quiet)

run() {  # run NP OUT [extra...] -> exit code of the conversion
  local np=$1 out=$2
  shift 2
  "${mpirun[@]}" -np "$np" "$synshard" "${args[@]}" --output "$out" "$@" >>"$work/log" 2>&1
}

digests() { (cd "$1" && sha256sum train/*.h5 val/*.h5 index.h5); }

# Every file under a final shard name must be complete: byte-identical to the reference.
no_partial_files() {
  local out=$1 file
  [[ -z $(find "$out" -name '*.tmp' 2>/dev/null) ]] || true  # temporaries are allowed, and removed on rerun
  for file in $(cd "$out" 2>/dev/null && ls train/*.h5 val/*.h5 2>/dev/null); do
    cmp -s "$out/$file" "$work/ref/$file" || { fail "$out/$file is partial or differs"; return; }
  done
}

# Waits (at most ~20 s) until the job reaches a state, then returns.
wait_for() {
  local i
  for ((i = 0; i < 2000; i++)); do
    eval "$1" && return 0
    sleep 0.01
  done
  return 1
}

run 2 "$work/ref"
code=$?
[[ $code -eq 3 ]] || fail "reference conversion exited $code, expected 3"
ref_digests=$(digests "$work/ref")

# SIGUSR1 to mpirun while images are being processed: exit 4, then a rerun at 3 ranks.
"${mpirun[@]}" -np 2 "$synshard" "${args[@]}" --output "$work/usr1" >>"$work/log" 2>&1 &
pid=$!
wait_for '[[ $(find "$work/usr1" -name "*.done" 2>/dev/null | wc -l) -ge 2 ]]' || fail "usr1: no progress seen"
kill -USR1 $pid
wait $pid
code=$?
[[ $code -eq 4 ]] && echo "usr1: stopped with exit code 4" || fail "usr1: exit code $code, expected 4"
[[ ! -e "$work/usr1/manifest.json" ]] || fail "usr1: manifest written by an interrupted run"
no_partial_files "$work/usr1"
run 3 "$work/usr1"
code=$?
[[ $code -eq 3 ]] || fail "usr1: rerun exited $code"
[[ "$(digests "$work/usr1")" == "$ref_digests" ]] && echo "usr1: rerun at 3 ranks is byte-identical" ||
  fail "usr1: rerun differs from the reference"

# kill -9 of the whole job (mpirun and every rank) while shards are being written.
setsid "${mpirun[@]}" -np 2 "$synshard" "${args[@]}" --output "$work/kill" >>"$work/log" 2>&1 &
pid=$!
wait_for '[[ $(ls "$work/kill/train" 2>/dev/null | wc -l) -ge 3 ]]' || fail "kill: no shard seen"
# Open MPI puts every rank in a process group of its own: kill mpirun's and each rank's.
ranks=$(pgrep -d, -P $pid)
kill -9 -- -$pid ${ranks//,/ } 2>/dev/null
wait $pid 2>/dev/null
# SIGKILL is asynchronous: a rank may still be tearing down its memory (and holding the
# output lock) for a moment after mpirun is gone.
wait_for "! ps -p '$pid,$ranks' >/dev/null" || fail "kill: ranks outlived kill -9"
[[ ! -e "$work/kill/manifest.json" ]] || echo "kill: note: the job finished before the kill"
no_partial_files "$work/kill"
echo "kill: $(ls "$work/kill/train" | grep -c '\.h5$') train shards under final names after kill -9, all complete"
run 1 "$work/kill"
code=$?
[[ $code -eq 3 ]] || fail "kill: rerun exited $code ($(grep 'error:' "$work/log" | tail -1))"
[[ "$(digests "$work/kill")" == "$ref_digests" ]] && echo "kill: rerun at 1 rank is byte-identical" ||
  fail "kill: rerun differs from the reference"

# SIGTERM through timeout: mpirun kills the ranks soon after; nothing partial, rerun at 4.
timeout -s TERM 2 "${mpirun[@]}" -np 2 "$synshard" "${args[@]}" --output "$work/term" >>"$work/log" 2>&1
code=$?
echo "term: timeout ended the job with exit code $code"
# mpirun may end before its ranks have wound down, and a rank still holds the output lock
# until it exits: a rerun started that moment is refused (the lock message), so wait.
wait_for "! pgrep -f -- '--output $work/term' >/dev/null" || fail "term: ranks outlived mpirun"
no_partial_files "$work/term"
run 4 "$work/term"
code=$?
[[ $code -eq 3 ]] || fail "term: rerun exited $code"
[[ "$(digests "$work/term")" == "$ref_digests" ]] && echo "term: rerun at 4 ranks is byte-identical" ||
  fail "term: rerun differs from the reference"

# A finished output is left alone and reports the code of the run that finished it.
run 2 "$work/ref"
code=$?
[[ $code -eq 3 ]] && echo "finished: rerun on a complete output exits 3 without work" ||
  fail "finished: rerun exited $code"

# Input changed between runs: refused with a clear message; --restart starts over.
"${mpirun[@]}" -np 2 "$synshard" "${args[@]}" --output "$work/changed" >>"$work/log" 2>&1 &
pid=$!
wait_for '[[ -e "$work/changed/.synshard-journal.json" ]]' || fail "changed: no journal seen"
kill -USR1 $pid
wait $pid
image=$(find "$work/corpus/train" -name '*.JPEG' | sort | head -n 1)
printf 'x' >>"$image"
output=$("${mpirun[@]}" -np 2 "$synshard" "${args[@]}" --output "$work/changed" 2>&1)
code=$?
if [[ $code -eq 1 && "$output" == *"inputs changed"*"--restart"* ]]; then
  echo "changed: resume refused with exit code 1"
else
  fail "changed: expected a refusal naming the change, got $code: $output"
fi
run 2 "$work/changed" --restart
code=$?
[[ $code -eq 3 ]] && echo "changed: --restart completed" || fail "changed: --restart exited $code"

# A finished output with inputs changed since is refused, never reported complete.
output=$("${mpirun[@]}" -np 2 "$synshard" "${args[@]}" --output "$work/ref" 2>&1)
code=$?
[[ $code -eq 1 && "$output" == *"inputs changed"* ]] &&
  echo "finished: rerun after an input changed is refused with exit code 1" ||
  fail "finished: rerun after an input changed exited $code: $output"

if [[ $failures -ne 0 ]]; then
  echo "--- log"; tail -n 40 "$work/log"
  exit 1
fi
echo "all resume scenarios passed"
