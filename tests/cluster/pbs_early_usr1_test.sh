#!/usr/bin/env bash
# Cluster.pbs_early_usr1: a stop (USR1, what the wall-time timer or `qsig -s USR1` sends)
# reaching the ranks before they can handle it. A rank whose shared libraries are still
# loading (the first ~0.1 s) has no handler yet, so USR1's default action kills it and
# mpirun exits 138 (128 + 10). Here the first job starts a stand-in for each rank that has
# no handler either (a `sleep`), and the test signals the job script once both run.
# Passes when cluster/pbs/convert.pbs takes that for a stop: exit 4 and a follow-up job,
# which (the real converter) completes with shards byte-identical to the reference.
source "$(dirname "$0")/common.sh"

require_commands mpirun
pbs_run_dir "$work/pbs_early_usr1"
cat >stand-in <<STAND_IN
#!/usr/bin/env bash
# The first job: a rank that USR1 kills (no handler); follow-ups: the converter.
if [[ "\${SYNSHARD_RESUBMITS:-0}" == 0 ]]; then
  touch "$run/started.\$OMPI_COMM_WORLD_RANK"
  exec sleep 300
fi
exec "$synshard" "\$@"
STAND_IN
chmod +x stand-in

pbs_job 123.fake-server 0 "$run/stand-in"
# env execs bash: $! is the job script itself, as PBS's session leader would be.
"${pbs_env[@]}" >>job.log 2>&1 &
job=$!
deadline=$((SECONDS + 120))
until [[ -e started.0 && -e started.1 ]]; do
  kill -0 "$job" 2>/dev/null || { cat job.log >&2; fail "the job ended before its ranks started"; }
  ((SECONDS < deadline)) || fail "the ranks did not start within 120 s"
  sleep 0.05
done
kill -USR1 "$job"
status=0
wait "$job" || status=$?
cat job.log
grep -q 'synshard convert exited with code 138$' job.log ||
  fail "the ranks were not killed by USR1 (no exit code 138 in the log)"
((status == 4)) || fail "the job whose ranks USR1 killed exited with $status, expected 4"
grep -q 'submitted follow-up job 124.fake-server (resubmit 1)' job.log ||
  fail "no follow-up job after the ranks were killed by USR1"
say "stopped with exit code 4 and submitted its follow-up"

status=0
pbs_job 124.fake-server 1 "$run/stand-in"
"${pbs_env[@]}" >>job.log 2>&1 || status=$?
conversion_succeeded "$status" || { cat job.log; fail "the follow-up job exited with $status"; }
check_output "$run/sample/out"
