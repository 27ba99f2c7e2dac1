#!/usr/bin/env bash
# Cluster.slurm_sbatch: cluster/slurm/convert.sbatch submitted with sbatch to a real
# one-node Slurm (slurmctld, slurmd and munge of this machine, cluster/slurm/
# local-cluster.sh) converts the sample corpus with 2 ranks, once launched by mpirun and
# once by srun (--mpi=pmix). Passes when each job ends with a completed conversion (exit
# code 0 or 3 in Slurm's record and in the job log), spooled to node-local scratch and
# removed it, and its shards are byte-identical to the plain `mpirun -np 2` reference
# (and `synshard verify` passes, when the build has it).
source "$(dirname "$0")/common.sh"

start_local_slurm
for launcher in mpirun srun; do
  run=$work/slurm_sbatch/$launcher
  sample_run_dir "$run"
  cd "$run"
  job_log=$run/job.log
  # TMPDIR stands in for a node-local disk: convert.sbatch spools to $TMPDIR/synshard-JOBID.
  mkdir -p "$run/tmp"
  job=$(SYNSHARD=$synshard SYNSHARD_LAUNCHER=$launcher TMPDIR=$run/tmp \
    sbatch --parsable -N 1 -n 2 --output="$job_log" \
    "$source_dir/cluster/slurm/convert.sbatch" --config "$source_dir/jobs/sample.ini" --quiet)
  say "$launcher: submitted job $job"
  state=$(wait_for_job_end "$job" 300)
  say "$launcher: job $job ended: $state"
  check_job_succeeded "$job"
  grep -q "running: $launcher .* --scratch $run/tmp/synshard-$job " "$job_log" ||
    fail "the job did not run $launcher with node-local scratch ($run/tmp/synshard-$job)"
  [[ ! -e "$run/tmp/synshard-$job" ]] || fail "the job left its scratch $run/tmp/synshard-$job behind"
  check_output "$run/sample/out"
done
