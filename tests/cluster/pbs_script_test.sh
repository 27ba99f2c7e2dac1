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
run=$work/pbs_script
pbs_run_dir "$run"

pbs_job 123.fake-server 0
# env execs bash: $! is the job script itself, as PBS's session leader would be.
"${pbs_env[@]}" >>job.log 2>&1 &
job=$!
deadline=$((SECONDS + 120))
until compgen -G "$run/tmp/synshard-*/*/*.spool" >/dev/null; do
  kill -0 "$job" 2>/dev/null || { cat job.log >&2; fail "the job ended before it could be signalled"; }
  ((SECONDS < deadline)) || fail "no spool within 120 s"
  sleep 0.05
done
kill -USR1 "$job"
status=0
wait "$job" || status=$?
cat job.log
((status == 4)) || fail "the stopped job exited with $status, expected 4"
grep -q 'wall time 01:00:00: asking for a stop in 3475 s' job.log || fail "the wall-time timer was not armed from qstat"
grep -q 'synshard convert exited with code 4$' job.log || fail "the conversion did not stop resumably"
grep -q 'submitted follow-up job 124.fake-server (resubmit 1)' job.log || fail "no follow-up job"
expected=$(printf '%s\n' -W depend=afterany:123.fake-server -v \
  "SYNSHARD_RESUBMITS=1,SYNSHARD=$synshard,SYNSHARD_CONFIG=$source_dir/jobs/sample.ini,SYNSHARD_ARGS=--quiet,SYNSHARD_PBS_SCRIPT=$source_dir/cluster/pbs/convert.pbs" \
  "$source_dir/cluster/pbs/convert.pbs")
[[ "$(cat qsub.args)" == "$expected" ]] ||
  fail "qsub was called with: $(cat qsub.args | xargs)"
say "stopped with exit code 4 and submitted its follow-up"

status=0
pbs_job 124.fake-server 1
"${pbs_env[@]}" >>job.log 2>&1 || status=$?
conversion_succeeded "$status" || { cat job.log; fail "the follow-up job exited with $status"; }
check_output "$run/sample/out"
