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
write_unhandled_usr1_stand_in "$run" SYNSHARD_RESUBMITS
check_pbs_usr1_stops "$run/stand-in" 138 "its ranks started" ranks_started "$run"
check_pbs_follow_up_completes "$run/stand-in"
