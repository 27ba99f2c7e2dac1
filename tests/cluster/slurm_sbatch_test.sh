#!/usr/bin/env bash
# Cluster.slurm_sbatch: cluster/slurm/convert.sbatch submitted with sbatch to a real
# one-node Slurm (slurmctld, slurmd and munge of this machine, cluster/slurm/
# local-cluster.sh) converts the sample corpus with 2 ranks. Passes when the job ends
# with a completed conversion (exit code 0 or 3 in Slurm's record and in the job log),
# the node-local scratch it used is gone, and the shards are byte-identical to the plain
# `mpirun -np 2` reference (and `synshard verify` passes, when the build has it).
source "$(dirname "$0")/common.sh"

start_local_slurm
run=$work/slurm_sbatch
sample_run_dir "$run"
cd "$run"
job_log=$run/job.log
# TMPDIR stands in for a node-local disk: convert.sbatch spools to $TMPDIR/synshard-JOBID.
mkdir -p "$run/tmp"
job=$(SYNSHARD=$synshard TMPDIR=$run/tmp sbatch --parsable -N 1 -n 2 --output="$job_log" \
  "$source_dir/cluster/slurm/convert.sbatch" --config "$source_dir/jobs/sample.ini" --quiet)
say "submitted job $job"
state=$(wait_for_job_end "$job" 300)
say "job $job ended: $state"
check_job_succeeded "$job"
grep -q -- "--scratch $run/tmp/synshard-$job" "$job_log" ||
  fail "the job did not spool to node-local scratch ($run/tmp/synshard-$job)"
[[ ! -e "$run/tmp/synshard-$job" ]] || fail "the job left its scratch $run/tmp/synshard-$job behind"
check_output "$run/sample/out"
