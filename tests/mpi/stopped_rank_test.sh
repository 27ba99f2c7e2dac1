#!/usr/bin/env bash
# MPI.stopped_rank: a real 2-rank `synshard convert` in which rank 1 is stopped (SIGSTOP)
# twice: in the middle of its share of the process phase, while rank 0 finishes its own
# share and waits at the end of the phase; and in the middle of the write phase, while
# rank 0 waits for it in a round of shards (in the phase-end agreement or a collective).
# Passes when, over each stop, rank 0 used little CPU (utime + stime from /proc/PID/stat
# under a fifth of the wall time: a waiting rank must not spin), its output named the rank
# it waited for at the end of the process phase ("waiting for rank 1", due after 10 s of
# waiting), and, once rank 1 continues, the run completes with shards identical to an
# uninterrupted run's.
#
#   bash stopped_rank_test.sh SYNSHARD_BINARY WORK_DIR
set -euo pipefail

synshard=$(realpath "${1:?usage: $0 SYNSHARD_BINARY WORK_DIR}")
work=$(realpath -m "${2:?usage: $0 SYNSHARD_BINARY WORK_DIR}")
stopped_seconds=12

say() { echo "[$(date +%T)] $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

mpirun_flags=(--oversubscribe)
[[ $(id -u) -ne 0 ]] || mpirun_flags+=(--allow-run-as-root)
# Small shards: many rounds of writing, so that the second stop finds the write phase.
convert=(mpirun "${mpirun_flags[@]}" -np 2 "$synshard" convert --input "$work/corpus/train"
  --shard-size 16)

rm -rf "$work"
mkdir -p "$work"
cd "$work"
"$synshard" synth --output corpus --num-classes 32 --per-class 40 >/dev/null
mpirun "${mpirun_flags[@]}" -np 2 "$synshard" plan --input corpus/train --json plan.json >/dev/null
"${convert[@]}" --output reference --quiet >reference.log 2>&1 || (($? == 3)) ||
  { cat reference.log; fail "the uninterrupted conversion failed"; }

# Each rank's pieces, as "SOURCE/BEGIN-END" (the spool and .done names under scratch).
pieces_of() {
  /usr/bin/python3 -c '
import json, sys
for piece in json.load(open("plan.json"))["partition"]["pieces"]:
    if piece["rank"] == int(sys.argv[1]):
        print("%s/%d-%d" % (piece["source"], piece["begin"], piece["end"]))' "$1"
}
mapfile -t rank0_pieces < <(pieces_of 0)
mapfile -t rank1_pieces < <(pieces_of 1)
((${#rank0_pieces[@]} > 0 && ${#rank1_pieces[@]} > 1)) || fail "the plan gives rank 1 too few pieces"
# How many of the pieces have a file with this extension in the scratch folder.
count_files() {
  local extension=$1 piece found=0
  shift
  for piece in "$@"; do
    compgen -G "scratch/*/$piece.$extension" >/dev/null && found=$((found + 1))
  done
  echo "$found"
}

# A terminal would get a redrawn bar; TERM=dumb gives the log lines a batch job gets.
TERM=dumb "${convert[@]}" --output out --scratch scratch >run.log 2>&1 &
launcher=$!  # mpirun itself: the ranks are its children
rank1=
cleanup() {
  [[ -z "$rank1" ]] || kill -CONT "$rank1" 2>/dev/null || true
  kill "$launcher" 2>/dev/null || true
}
trap cleanup EXIT

rank_pid() {
  local pid
  for pid in $(pgrep -P "$launcher"); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

deadline=$((SECONDS + 120))
until (($(count_files spool "${rank1_pieces[@]}") > 0)); do
  kill -0 "$launcher" 2>/dev/null || { cat run.log; fail "the conversion ended before rank 1 spooled"; }
  ((SECONDS < deadline)) || fail "rank 1 spooled nothing within 120 s"
  sleep 0.02
done
rank0=$(rank_pid 0) || fail "no rank 0 under mpirun $launcher"
rank1=$(rank_pid 1) || fail "no rank 1 under mpirun $launcher"
kill -STOP "$rank1"
done1=$(count_files done "${rank1_pieces[@]}")
say "stopped rank 1 (pid $rank1) with $done1 of its ${#rank1_pieces[@]} pieces done"
((done1 < ${#rank1_pieces[@]})) || fail "rank 1 had finished its share before the stop: nothing was tested"

# Rank 0 finishes its own share, then waits for rank 1 at the end of the phase.
deadline=$((SECONDS + 120))
until (($(count_files done "${rank0_pieces[@]}") == ${#rank0_pieces[@]})); do
  ((SECONDS < deadline)) || fail "rank 0 did not finish its share within 120 s"
  sleep 0.05
done
# Prints "CPU WALL": rank 0's CPU seconds (utime + stime, fields 14 and 15 of
# /proc/PID/stat, after the parenthesised name) over the next $1 seconds, and those.
cpu_ticks() { sed 's/^.*) //' "/proc/$rank0/stat" | awk '{print $12 + $13}'; }
rank0_cpu_over() {
  local ticks_before wall_before ticks_after wall_after
  ticks_before=$(cpu_ticks)
  wall_before=$(date +%s.%N)
  sleep "$1"
  ticks_after=$(cpu_ticks)
  wall_after=$(date +%s.%N)
  awk -v t="$((ticks_after - ticks_before))" -v hz="$(getconf CLK_TCK)" \
    -v a="$wall_before" -v b="$wall_after" 'BEGIN {printf "%.2f %.2f\n", t / hz, b - a}'
}
spins() { awk -v cpu="$1" -v wall="$2" 'BEGIN {exit !(cpu >= 0.2 * wall)}'; }
read -r cpu wall < <(rank0_cpu_over "$stopped_seconds")
say "process phase: rank 0 used $cpu s of CPU in $wall s of waiting for the stopped rank 1"
# The line is due 10 s into the wait; the log display prints at most every 5 s.
deadline=$((SECONDS + 10))
until grep -q 'waiting for rank 1' run.log; do
  ((SECONDS < deadline)) || break
  sleep 0.2
done
waiting_line=$(grep -m 1 'waiting for rank 1' run.log || true)
kill -CONT "$rank1"

# The write phase: rank 1 stopped once some shards are out, rank 0 can at most finish
# the shard it is writing before it has to wait.
shard_total=$(find reference/train -name '*.h5' | wc -l)
shards_out() { find out/train -name '*.h5' 2>/dev/null | wc -l; }
deadline=$((SECONDS + 120))
until (($(shards_out) >= 4)); do
  kill -0 "$launcher" 2>/dev/null || { cat run.log; fail "the conversion ended before the write phase was stopped"; }
  ((SECONDS < deadline)) || fail "no shard written within 120 s"
  sleep 0.02
done
kill -STOP "$rank1"
written=$(shards_out)
say "stopped rank 1 again with $written of $shard_total shards written"
((written < shard_total)) || fail "every shard was written before the stop: nothing was tested"
read -r write_cpu write_wall < <(rank0_cpu_over 6)
say "write phase: rank 0 used $write_cpu s of CPU in $write_wall s of waiting for the stopped rank 1"
kill -CONT "$rank1"
rank1=
status=0
wait "$launcher" || status=$?
cat run.log

! spins "$cpu" "$wall" ||
  fail "rank 0 used $cpu s of CPU in $wall s while it waited for the stopped rank 1 at the end of the process phase: it spins"
! spins "$write_cpu" "$write_wall" ||
  fail "rank 0 used $write_cpu s of CPU in $write_wall s while it waited for the stopped rank 1 in the write phase: it spins"
[[ -n "$waiting_line" ]] || fail "rank 0 never said that it was waiting for rank 1"
say "named: $waiting_line"
((status == 0 || status == 3)) || fail "the conversion exited with $status after rank 1 continued"
shard_hashes() { (cd "$1" && find train val -name '*.h5' -type f -print0 2>/dev/null | LC_ALL=C sort -z | xargs -0 sha256sum); }
[[ -n "$(shard_hashes reference)" ]] || fail "the reference holds no shards"
[[ "$(shard_hashes out)" == "$(shard_hashes reference)" ]] ||
  fail "the shards differ from the uninterrupted run's"
"$synshard" verify out >/dev/null || fail "synshard verify out failed"
say "the run completed; shards identical to the uninterrupted run's"
