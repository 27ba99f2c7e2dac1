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
submit_sample_job "$run" "$synshard"
wait_until "a spool was written" slurm_job_alive spool_written "$run/tmp/synshard-$job"
check_usr1_requeues_once 4
grep -q 'restart 1$' "$job_log" || fail "no second run (SLURM_RESTART_COUNT=1) in the log"
check_output "$run/sample/out"
