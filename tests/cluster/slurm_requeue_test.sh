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

state=$(wait_for_requeued_job_end "$job" 300)
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
