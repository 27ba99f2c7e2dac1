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
job_log=$run/job.log
mkdir -p "$run/tmp"
cat >stand-in <<STAND_IN
#!/usr/bin/env bash
# First run: a rank that USR1 kills (no handler); later runs: the converter.
if [[ "\${SLURM_RESTART_COUNT:-0}" == 0 ]]; then
  touch "$run/started.\$OMPI_COMM_WORLD_RANK"
  exec sleep 300
fi
exec "$synshard" "\$@"
STAND_IN
chmod +x stand-in
job=$(SYNSHARD=$run/stand-in TMPDIR=$run/tmp sbatch --parsable -N 1 -n 2 --output="$job_log" \
  "$source_dir/cluster/slurm/convert.sbatch" --config "$source_dir/jobs/sample.ini" --quiet)
say "submitted job $job"

deadline=$((SECONDS + 120))
until [[ -e started.0 && -e started.1 ]]; do
  state=$(job_field "$job" JobState)
  [[ "$state" == PENDING || "$state" == RUNNING ]] ||
    fail "job $job ended ($state) before its ranks started: nothing was tested"
  ((SECONDS < deadline)) || fail "the ranks of job $job did not start within 120 s"
  sleep 0.05
done
scancel --signal=USR1 --batch "$job"
say "sent USR1 to the batch shell of job $job"

state=$(wait_for_requeued_job_end "$job" 300)
say "job $job ended: $state, $(job_field "$job" Restarts) restart(s)"

grep -q 'USR1: asking the conversion to stop resumably' "$job_log" ||
  fail "the batch script's trap did not run"
grep -q 'synshard convert exited with code 138$' "$job_log" ||
  fail "the first run's ranks were not killed by USR1 (no exit code 138 in the log)"
grep -q "requeueing job $job (restart 1)" "$job_log" ||
  fail "the job did not requeue itself after its ranks were killed by USR1"
(($(job_field "$job" Restarts) == 1)) || fail "Slurm counts $(job_field "$job" Restarts) restarts, expected 1"
check_job_succeeded "$job"
check_output "$run/sample/out"
