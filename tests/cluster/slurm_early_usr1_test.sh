#!/usr/bin/env bash
# Cluster.slurm_early_usr1: Slurm's warning signal reaching the ranks before they can
# handle it. A rank whose shared libraries are still loading (the first ~0.1 s) has no
# handler yet, so USR1's default action kills it and mpirun exits 138 (128 + 10). Here
# the job's first run starts a stand-in for each rank that has no handler either (a
# `sleep`); the test sends the batch shell USR1 as Slurm would, the script forwards it,
# the stand-ins die of it. Passes when cluster/slurm/convert.sbatch takes that for a stop:
# it requeues the job, and the requeued run (the real converter) completes with shards
# byte-identical to the reference.
source "$(dirname "$0")/common.sh"

start_local_slurm
run=$work/slurm_early_usr1
sample_run_dir "$run"
cd "$run"
write_unhandled_usr1_stand_in "$run" SLURM_RESTART_COUNT
submit_sample_job "$run" "$run/stand-in"
wait_until "its ranks started" slurm_job_alive ranks_started "$run"
check_usr1_requeues_once 138
check_output "$run/sample/out"
