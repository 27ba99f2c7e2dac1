# Shared by the cluster tests (sourced). Each test script is called by ctest as
#   bash tests/cluster/NAME_test.sh SYNSHARD_BINARY WORK_DIR
# and exits 0 (passed), 1 (failed) or $SKIP (77: ctest's SKIP_RETURN_CODE, shown as
# skipped with the printed reason) when the machine cannot run it (no root, no
# CAP_NET_ADMIN, no Slurm, no resume in this build).
# shellcheck shell=bash
set -euo pipefail

SKIP=77
synshard=$(realpath "${1:?usage: $0 SYNSHARD_BINARY WORK_DIR}")
work=$(realpath -m "${2:?usage: $0 SYNSHARD_BINARY WORK_DIR}")
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
reference=$work/reference

say() { echo "[$(date +%T)] $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit "$SKIP"; }

require_root() {
  [[ $(id -u) -eq 0 ]] || skip "needs root ($1)"
}

require_commands() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (bash cluster/install-deps.sh)"
  done
}

# The machine's Slurm ports, bridge and /etc/hosts lines are one per machine: cluster
# tests of different build trees (several engineers, CI) take turns.
take_machine_lock() {
  exec 9>/tmp/synshard-cluster-tests.lock
  if ! flock -w 1500 9; then fail "another cluster test held /tmp/synshard-cluster-tests.lock for 25 min"; fi
}

mpirun_flags=(--oversubscribe)
[[ $(id -u) -ne 0 ]] || mpirun_flags+=(--allow-run-as-root)

# "path sha256" of every shard file of an output, sorted: equal lists mean byte-identical
# shards under the same names.
shard_hashes() {
  (cd "$1" && find train val -name '*.h5' -type f -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum)
}

# Fails unless OUT holds a finished conversion whose shards equal the reference's.
check_output() {
  local out=$1
  [[ -s "$out/manifest.json" ]] || fail "$out/manifest.json is missing"
  [[ -s "$out/index.h5" ]] || fail "$out/index.h5 is missing"
  local expected actual
  expected=$(shard_hashes "$reference/sample/out")
  actual=$(shard_hashes "$out")
  [[ -n "$actual" ]] || fail "$out holds no shards"
  if [[ "$actual" != "$expected" ]]; then
    diff <(echo "$expected") <(echo "$actual") >&2 || true
    fail "the shards in $out differ from the single-node reference (diff above: < reference, > this run)"
  fi
  # Every shard's sha256 is also what the manifest records for it.
  /usr/bin/python3 - "$out" <<'EOF' || fail "manifest.json's shard sha256 values do not match the files"
import hashlib, json, pathlib, sys
out = pathlib.Path(sys.argv[1])
manifest = json.loads((out / "manifest.json").read_text())
for split in manifest["splits"].values():
    for shard in split["shards"]:
        digest = hashlib.sha256((out / shard["path"]).read_bytes()).hexdigest()
        assert digest == shard["sha256"], (shard["path"], digest, shard["sha256"])
EOF
  if has_command verify; then
    "$synshard" verify "$out" || fail "synshard verify $out failed"
    say "synshard verify: ok"
  fi
  say "$(echo "$actual" | wc -l) shards identical to the reference; manifest agrees"
}

# Makes DIR a directory to run jobs/sample.ini in: the job file's relative paths
# (sample/corpus/..., sample/out) resolve there, with the reference's corpus linked in.
sample_run_dir() {
  local dir=$1
  [[ -d "$reference/sample/corpus/train" ]] || fail "no sample corpus in $reference (run Cluster.reference first)"
  rm -rf "$dir"
  mkdir -p "$dir/sample"
  ln -s "$reference/sample/corpus" "$dir/sample/corpus"
}

# Whether this build has a command, or a convert option (read whole: `grep -q` on a pipe
# could cut the writer short and, under pipefail, turn a yes into a no).
has_command() {
  local help
  help=$("$synshard" --help 2>&1)
  awk -v name="$1" '/^Commands:/ {on = 1; next} on && NF == 0 {on = 0}
                    on && $1 == name {found = 1} END {exit !found}' <<<"$help"
}

# Exit codes of a completed conversion: 0, or 3 when inputs were rejected (the sample's
# deliberate traps).
conversion_succeeded() { [[ "$1" == 0 || "$1" == 3 ]]; }

# Writes RUN/stand-in, a converter for the job script whose first run (RESTART_VARIABLE
# unset or 0) is a rank that USR1 kills, as one still loading its shared libraries has no
# handler yet (a `sleep` that marks RUN/started.RANK); later runs are the real converter.
write_unhandled_usr1_stand_in() {
  local run=$1 restart_variable=$2
  cat >"$run/stand-in" <<STAND_IN
#!/usr/bin/env bash
if [[ "\${$restart_variable:-0}" == 0 ]]; then
  touch "$run/started.\$OMPI_COMM_WORLD_RANK"
  exec sleep 300
fi
exec "$synshard" "\$@"
STAND_IN
  chmod +x "$run/stand-in"
}

# Whether both ranks of the stand-in's first run have started (in RUN).
ranks_started() { [[ -e "$1/started.0" && -e "$1/started.1" ]]; }

# Whether a conversion with its scratch in SCRATCH has spooled an image, so that a stop
# interrupts real work rather than the start-up.
spool_written() { compgen -G "$1/synshard-*/*/*.spool" >/dev/null; }

# Waits up to 120 s until the command CONDITION... holds, failing with WHAT as soon as
# the command ALIVE says the job has ended: a job that ended first tested nothing.
wait_until() {
  local what=$1 alive=$2
  shift 2
  local deadline=$((SECONDS + 120))
  until "$@"; do
    "$alive" || fail "the job ended before $what: nothing was tested"
    ((SECONDS < deadline)) || fail "$what did not happen within 120 s"
    sleep 0.05
  done
}

# --- Slurm ----------------------------------------------------------------------------

# Starts a one-node Slurm with its state in a fresh temporary directory (stopped and
# removed on exit; its logs are printed first when the test failed).
start_local_slurm() {
  require_root "slurmd starts jobs as their owners"
  require_commands munged mungekey slurmctld slurmd sbatch scontrol sinfo mpirun flock
  take_machine_lock
  SYNSHARD_SLURM_DIR=$(mktemp -d /tmp/synshard-slurm.XXXXXX)
  export SYNSHARD_SLURM_DIR
  trap stop_local_slurm EXIT
  eval "$(bash "$source_dir/cluster/slurm/local-cluster.sh" up)"
}

stop_local_slurm() {
  local status=$?
  if ((status != 0 && status != SKIP)); then
    local log
    for log in "${job_log:-}" "$SYNSHARD_SLURM_DIR"/log/*.log; do
      [[ -f "$log" ]] || continue
      echo "----- $log (last 40 lines)" >&2
      tail -n 40 "$log" >&2
    done
  fi
  bash "$source_dir/cluster/slurm/local-cluster.sh" down || true
  exit "$status"
}

# One field (e.g. JobState, ExitCode, Restarts) of `scontrol show job`.
job_field() {
  scontrol show job "$1" -o | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# Waits until the job has ended (bounded); prints its final state.
wait_for_job_end() {
  local job=$1 timeout=$2 state
  local deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    state=$(job_field "$job" JobState)
    case "$state" in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
        echo "$state"
        return 0
        ;;
    esac
    sleep 0.5
  done
  scontrol show job "$job" >&2
  fail "job $job did not end within $timeout s (state $state)"
}

# Waits until a job that requeues itself has ended (bounded); prints its final state.
# Slurm holds a requeued job for about 2 minutes before it may start again; a real job
# waits (harmless against hours of wall time), the test lets it start early. Not at once:
# slurmd revokes the first run's credential and refuses ("Job credential revoked") a new
# one issued within the same second, so the release waits until the node has finished
# cleaning up and at least two seconds have passed since the requeue was seen (SECONDS
# counts whole seconds, hence 3).
wait_for_requeued_job_end() {
  local job=$1 timeout=$2 state node_state released=0 requeued_at=
  local deadline=$((SECONDS + timeout))
  while :; do
    state=$(job_field "$job" JobState)
    case "$state" in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY)
        echo "$state"
        return 0
        ;;
    esac
    if ((released == 0)) && [[ "$state" == PENDING ]] && (($(job_field "$job" Restarts) >= 1)); then
      requeued_at=${requeued_at:-$SECONDS}
      node_state=$(sinfo --noheader --Node --format=%T | head -n 1)
      if ((SECONDS >= requeued_at + 3)) && [[ "$node_state" != *completing* ]]; then
        scontrol update JobId="$job" StartTime=now >&2 && released=1 && say "requeued job $job released" >&2
      fi
    fi
    ((SECONDS < deadline)) || fail "job $job did not end within $timeout s (state $state)"
    sleep 0.5
  done
}

# Fails unless the job's batch script ended with a completed conversion, as Slurm and
# the job log both record it.
check_job_succeeded() {
  local job=$1 exit_code
  exit_code=$(job_field "$job" ExitCode)
  [[ "$exit_code" == 0:0 || "$exit_code" == 3:0 ]] ||
    fail "job $job ended with ExitCode=$exit_code (expected 0:0 or 3:0)"
  grep -Eq 'synshard convert exited with code (0|3)$' "$job_log" ||
    fail "the job log $job_log records no completed conversion"
  say "job $job: ExitCode=$exit_code, state $(job_field "$job" JobState)"
}

# Submits jobs/sample.ini through cluster/slurm/convert.sbatch on two ranks from RUN (the
# working directory) with CONVERTER as the converter; sets job and job_log.
submit_sample_job() {
  local run=$1 converter=$2
  job_log=$run/job.log
  mkdir -p "$run/tmp"
  job=$(SYNSHARD=$converter TMPDIR=$run/tmp sbatch --parsable -N 1 -n 2 --output="$job_log" \
    "$source_dir/cluster/slurm/convert.sbatch" --config "$source_dir/jobs/sample.ini" --quiet)
  say "submitted job $job"
}

slurm_job_alive() {
  local state
  state=$(job_field "$job" JobState)
  [[ "$state" == PENDING || "$state" == RUNNING ]]
}

# Sends the batch shell of the job Slurm's warning signal (`scancel --signal=USR1
# --batch`, what --signal=B:USR1@120 sends before the time limit), then fails unless the
# script's trap forwarded it, the first run's conversion exited with FIRST_EXIT, the job
# requeued itself once and the requeued run completed.
check_usr1_requeues_once() {
  local first_exit=$1 state
  scancel --signal=USR1 --batch "$job"
  say "sent USR1 to the batch shell of job $job"
  state=$(wait_for_requeued_job_end "$job" 300)
  say "job $job ended: $state, $(job_field "$job" Restarts) restart(s)"
  grep -q 'USR1: asking the conversion to stop resumably' "$job_log" ||
    fail "the batch script's trap did not run"
  grep -q "synshard convert exited with code $first_exit\$" "$job_log" ||
    fail "the first run did not end with exit code $first_exit (see the job log)"
  grep -q "requeueing job $job (restart 1)" "$job_log" || fail "the job did not requeue itself"
  (($(job_field "$job" Restarts) == 1)) || fail "Slurm counts $(job_field "$job" Restarts) restarts, expected 1"
  check_job_succeeded "$job"
}

# --- PBS (no server here) ---------------------------------------------------------------

# Makes RUN (the working directory from now on) a place to run cluster/pbs/convert.pbs as
# PBS runs it, with stand-ins: `qstat -f` gives a 1 h limit with 5 s used, `qsub` records
# its arguments in RUN/qsub.args and prints a job id; a node file with two slots.
pbs_run_dir() {
  run=$1
  sample_run_dir "$run"
  cd "$run"
  mkdir -p fake-bin tmp
  cat >fake-bin/qstat <<'FAKE'
#!/bin/sh
printf 'Job Id: %s\n    Resource_List.walltime = 01:00:00\n    resources_used.walltime = 00:00:05\n' "$2"
FAKE
  cat >fake-bin/qsub <<'FAKE'
#!/bin/sh
printf '%s\n' "$@" >"$QSUB_RECORD"
echo 124.fake-server
FAKE
  chmod +x fake-bin/*
  printf 'localhost\nlocalhost\n' >nodefile
}

# Sets pbs_env to the job script as PBS starts it, as job ID with SYNSHARD_RESUBMITS set
# to RESUBMITS, running the converter SYNSHARD (default: the one under test).
pbs_job() {
  pbs_env=(env PATH="$run/fake-bin:$PATH" QSUB_RECORD="$run/qsub.args" PBS_O_WORKDIR="$run"
    PBS_JOBID="$1" PBS_NODEFILE="$run/nodefile" TMPDIR="$run/tmp" SYNSHARD="${3:-$synshard}"
    SYNSHARD_CONFIG="$source_dir/jobs/sample.ini" SYNSHARD_ARGS=--quiet
    SYNSHARD_PBS_SCRIPT="$source_dir/cluster/pbs/convert.pbs" SYNSHARD_RESUBMITS="$2"
    bash "$source_dir/cluster/pbs/convert.pbs")
}

pbs_job_alive() { kill -0 "$job" 2>/dev/null; }

# Runs the first job (123.fake-server) with CONVERTER in the background, sends it USR1 once
# CONDITION... holds (see wait_until), and fails unless the script stopped with exit code
# 4 after the conversion exited with FIRST_EXIT and submitted its follow-up job.
check_pbs_usr1_stops() {
  local converter=$1 first_exit=$2 status=0
  shift 2
  pbs_job 123.fake-server 0 "$converter"
  # env execs bash: $! is the job script itself, as PBS's session leader would be.
  "${pbs_env[@]}" >>job.log 2>&1 &
  job=$!
  wait_until "$1" pbs_job_alive "${@:2}"
  kill -USR1 "$job"
  wait "$job" || status=$?
  cat job.log
  grep -q "synshard convert exited with code $first_exit\$" job.log ||
    fail "the conversion did not end with exit code $first_exit"
  ((status == 4)) || fail "the stopped job exited with $status, expected 4"
  grep -q 'submitted follow-up job 124.fake-server (resubmit 1)' job.log || fail "no follow-up job"
  say "stopped with exit code 4 and submitted its follow-up"
}

# Runs the follow-up job (124.fake-server) with CONVERTER to its end and checks its output.
check_pbs_follow_up_completes() {
  local status=0
  pbs_job 124.fake-server 1 "$1"
  "${pbs_env[@]}" >>job.log 2>&1 || status=$?
  conversion_succeeded "$status" || { cat job.log; fail "the follow-up job exited with $status"; }
  check_output "$run/sample/out"
}
