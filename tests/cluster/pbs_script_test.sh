#!/usr/bin/env bash
# Cluster.pbs_script: cluster/pbs/convert.pbs run the way PBS runs it (PBS_* variables, a
# node file, TMPDIR as per-job scratch), with stand-ins for qstat and qsub (no PBS server
# here). Checks that the script arms its wall-time timer from qstat's walltime, that a
# USR1 (what `qsig -s USR1` or the timer sends) reaches the ranks through mpirun and
# stops the conversion resumably (exit 4), and that the script then submits a follow-up
# job depending on this one with the same settings. When this build can resume, the
# follow-up is run too and must complete with shards identical to the reference.
source "$(dirname "$0")/common.sh"

require_commands mpirun
pbs_run_dir "$work/pbs_script"
check_pbs_usr1_stops "$synshard" 4 "a spool was written" spool_written "$run/tmp"
grep -q 'wall time 01:00:00: asking for a stop in 3475 s' job.log || fail "the wall-time timer was not armed from qstat"
expected=$(printf '%s\n' -W depend=afterany:123.fake-server -v \
  "SYNSHARD_RESUBMITS=1,SYNSHARD=$synshard,SYNSHARD_CONFIG=$source_dir/jobs/sample.ini,SYNSHARD_ARGS=--quiet,SYNSHARD_PBS_SCRIPT=$source_dir/cluster/pbs/convert.pbs" \
  "$source_dir/cluster/pbs/convert.pbs")
[[ "$(cat qsub.args)" == "$expected" ]] ||
  fail "qsub was called with: $(cat qsub.args | xargs)"
check_pbs_follow_up_completes "$synshard"
