#!/usr/bin/env bash
# Cluster.slurm_requeue: the wall-time path of cluster/slurm/convert.sbatch on a real
# one-node Slurm. Once the job's ranks are processing images, the test sends the batch
# shell Slurm's warning signal by hand (`scancel --signal=USR1 --batch`, what
# --signal=B:USR1@120 sends before the time limit). The script's trap forwards it to
# mpirun, the converter stops resumably (exit 4), the script requeues the job, and the
# requeued run (SLURM_RESTART_COUNT=1) resumes and completes. Passes when the log shows
# exactly that sequence and the shards are byte-identical to the uninterrupted reference.
source "$(dirname "$0")/common.sh"

start_local_slurm
run=$work/slurm_requeue
sample_run_dir "$run"
cd "$run"
job_log=$run/job.log
mkdir -p "$run/tmp"
job=$(SYNSHARD=$synshard TMPDIR=$run/tmp sbatch --parsable -N 1 -n 2 --output="$job_log" \
  "$source_dir/cluster/slurm/convert.sbatch" --config "$source_dir/jobs/sample.ini" --quiet)
say "submitted job $job"

# Signal only once images are being processed (a spool file exists), so the stop
# interrupts real work rather than the start-up.
scratch=$run/tmp/synshard-$job
deadline=$((SECONDS + 120))
until compgen -G "$scratch/synshard-*/*/*.spool" >/dev/null; do
  state=$(job_field "$job" JobState)
  [[ "$state" == PENDING || "$state" == RUNNING ]] ||
    fail "job $job ended ($state) before it could be signalled: nothing was tested"
  ((SECONDS < deadline)) || fail "job $job wrote no spool within 120 s"
  sleep 0.05
done
scancel --signal=USR1 --batch "$job"
say "sent USR1 to the batch shell of job $job"

# Slurm holds a requeued job for about 2 minutes before it may start again; a real job
# waits (harmless against hours of wall time), the test lets it start early. Not at once:
# slurmd revokes the first run's credential and refuses ("Job credential revoked") a new
# one issued within the same second, so the release waits until the node has finished
# cleaning up and at least two seconds have passed since the requeue was seen (SECONDS
# counts whole seconds, hence 3).
deadline=$((SECONDS + 300))
released=0
requeued_at=
while :; do
  state=$(job_field "$job" JobState)
  case "$state" in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) break ;;
  esac
  if ((released == 0)) && [[ "$state" == PENDING ]] && (($(job_field "$job" Restarts) >= 1)); then
    requeued_at=${requeued_at:-$SECONDS}
    node_state=$(sinfo --noheader --Node --format=%T | head -n 1)
    if ((SECONDS >= requeued_at + 3)) && [[ "$node_state" != *completing* ]]; then
      scontrol update JobId="$job" StartTime=now && released=1 && say "requeued job $job released"
    fi
  fi
  ((SECONDS < deadline)) || fail "job $job did not end within 300 s (state $state)"
  sleep 0.5
done
say "job $job ended: $state, $(job_field "$job" Restarts) restart(s)"

grep -q 'USR1: asking the conversion to stop resumably' "$job_log" ||
  fail "the batch script's trap did not run"
grep -q 'synshard convert exited with code 4$' "$job_log" ||
  fail "the first run did not stop resumably (no exit code 4 in the log): the signal came too late or was lost"
grep -q "requeueing job $job (restart 1)" "$job_log" || fail "the job did not requeue itself"
grep -q 'restart 1$' "$job_log" || fail "no second run (SLURM_RESTART_COUNT=1) in the log"
(($(job_field "$job" Restarts) == 1)) || fail "Slurm counts $(job_field "$job" Restarts) restarts, expected 1"
check_job_succeeded "$job"
check_output "$run/sample/out"
