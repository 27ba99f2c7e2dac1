#!/usr/bin/env bash
# Cluster.netns_mpirun: three "nodes" as network namespaces on one bridge
# (cluster/netns/netns-cluster.sh), each with its own hostname and /dev/shm, and one
# mpirun across them with a hostfile and an rsh agent, ranks talking over TCP between
# nodes and over shared memory within one (checked in Open MPI's own log). The sample
# corpus converted with 2 ranks on each node (6 ranks) must give shards byte-identical to
# the single-node 2-rank reference. The namespaces, bridge and /etc/hosts lines are
# removed on exit, also when the test fails.
source "$(dirname "$0")/common.sh"

require_root "network namespaces and a bridge need CAP_NET_ADMIN"
unshare --net true 2>/dev/null || skip "cannot create a network namespace here, the nodes of this test (no CAP_NET_ADMIN/CAP_SYS_ADMIN)"
require_commands ip unshare mpirun ping flock
take_machine_lock

netns=$source_dir/cluster/netns/netns-cluster.sh
export SYNSHARD_NETNS_DIR=$work/netns_mpirun/nodes SYNSHARD_NETNS_NODES=3 SYNSHARD_NETNS_SLOTS=2
teardown() {
  local status=$?
  bash "$netns" down || true
  exit "$status"
}
trap teardown EXIT
bash "$netns" down # leftovers of a run that was killed before its trap could run
bash "$netns" up

run=$work/netns_mpirun/run
sample_run_dir "$run"
cd "$run"

# Each rank must land in its own node's namespace, two per node. Open MPI 4.1's remote
# daemon (orted) has been seen to crash with SIGSEGV in orte_iof_base_write_output while
# forwarding this probe's output, before any synshard code runs: the probe is tried up to
# three times, and each crash is said.
for attempt in 1 2 3; do
  placement=$(bash "$netns" mpirun -np 6 hostname 2>"$run/placement.err" |
              LC_ALL=C sort | uniq -c | awk '{print $2 "=" $1}' | xargs)
  [[ "$placement" == "synshard-n1=2 synshard-n2=2 synshard-n3=2" ]] && break
  say "placement probe $attempt gave '$placement': $(grep -m1 -E 'Signal:|lost communication' "$run/placement.err")"
done
[[ "$placement" == "synshard-n1=2 synshard-n2=2 synshard-n3=2" ]] ||
  fail "ranks were placed as '$placement', expected 2 on each of synshard-n1..n3"
say "placement: $placement"

# btl_base_verbose makes every rank say which transport it uses to reach which peer.
status=0
bash "$netns" mpirun -np 6 --mca btl_base_verbose 100 \
  "$synshard" convert --config "$source_dir/jobs/sample.ini" --quiet >mpirun.log 2>&1 || status=$?
conversion_succeeded "$status" || { tail -n 60 mpirun.log >&2; fail "the 6-rank, 3-node conversion exited with $status"; }
say "3 nodes x 2 ranks: exit code $status"
# Within a node shared memory (each node's own /dev/shm), between nodes TCP on the bridge.
grep -Eq 'Using vader btl for send to .* on node synshard-n' mpirun.log ||
  fail "no rank used shared memory (vader) to a rank of its own node (mpirun.log)"
grep -Eq 'Using tcp btl for send to .* on node synshard-n' mpirun.log ||
  fail "no rank used TCP to a rank of another node (mpirun.log)"
say "transports: vader within nodes, tcp between them"
check_output "$run/sample/out"
