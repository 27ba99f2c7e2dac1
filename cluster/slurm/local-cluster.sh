#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for tests and for trying convert.sbatch.
#
#   eval "$(bash cluster/slurm/local-cluster.sh up)"   # starts munged, slurmctld, slurmd;
#                                                      # prints `export SLURM_CONF=...`
#   sbatch -N 1 -n 2 cluster/slurm/convert.sbatch ...  # then use Slurm as usual
#   bash cluster/slurm/local-cluster.sh status         # daemons, node state, queue
#   bash cluster/slurm/local-cluster.sh down           # stops the daemons, removes the state
#
# Needs root and Debian's slurmctld, slurmd, slurm-client and munge (cluster/install-deps.sh).
# Everything (config, munge key and socket, state, spool, logs, pid files) lives under one
# directory, SYNSHARD_SLURM_DIR (default /tmp/synshard-slurm), so the machine's own munge
# and Slurm configuration are never touched. Ports: SYNSHARD_SLURM_PORT (slurmctld, default
# 6817) and the next one (slurmd). One such cluster at a time per port pair.
#
# The settings are the ones known to work on a small root VM without cgroups:
# proctrack/linuxproc, task/none, no accounting, cons_tres with CR_Core, and the node line
# from `slurmd -C` (its real CPU count and memory). Exit codes: 0 ok, 1 failure, 2 usage.
set -euo pipefail

usage() {
  echo "usage: $0 up|down|status|env   (state in \$SYNSHARD_SLURM_DIR, default /tmp/synshard-slurm)" >&2
  exit 2
}
[[ $# -eq 1 ]] || usage
action=$1
dir=${SYNSHARD_SLURM_DIR:-/tmp/synshard-slurm}
port=${SYNSHARD_SLURM_PORT:-6817}
conf=$dir/slurm.conf
munge_socket=$dir/munge/munge.socket

log() { echo "local-cluster: $*" >&2; }
die() { log "$*"; exit 1; }

# Reads a pid file and succeeds when that process is alive.
alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Stops the process named by a pid file: TERM, then KILL after 10 s. Only that pid.
stop_pidfile() {
  local pidfile=$1 pid
  alive "$pidfile" || return 0
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "pid $pid ($pidfile) ignored SIGTERM; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

print_env() { echo "export SLURM_CONF=$conf"; }

write_config() {
  local host node_line
  host=$(hostname -s)
  # `slurmd -C` prints this machine's NodeName line (CPUs, sockets, cores, memory).
  node_line=$(slurmd -C | head -n 1)
  [[ "$node_line" == NodeName=* ]] || die "slurmd -C printed no node line: $node_line"
  cat >"$conf" <<EOF
# Written by cluster/slurm/local-cluster.sh: a one-node cluster for tests.
ClusterName=synshard
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$munge_socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
# Keep finished jobs visible to scontrol for 10 minutes (tests read their exit codes).
MinJobAge=600
KillWait=30
$node_line State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES State=UP OverSubscribe=YES MaxTime=INFINITE
EOF
}

start_munge() {
  mkdir -p "$dir/munge"
  chmod 700 "$dir/munge"
  [[ -s "$dir/munge/munge.key" ]] || mungekey --create --keyfile="$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  # --force: run although the socket directory's owner/permissions are not munge's own.
  munged --force --socket="$munge_socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" \
    --log-file="$dir/log/munged.log" || die "munged did not start (see $dir/log/munged.log)"
}

wait_for_node() {
  local state i
  for i in $(seq 300); do
    # The daemons write their pid files some time after they return: look every 5 s.
    if ((i % 25 == 0)); then
      alive "$dir/slurmctld.pid" || die "slurmctld stopped (see $dir/log/slurmctld.log)"
      alive "$dir/slurmd.pid" || die "slurmd stopped (see $dir/log/slurmd.log)"
    fi
    state=$(SLURM_CONF=$conf sinfo -h -o %T 2>/dev/null | head -n 1 || true)
    case "$state" in
      idle | mixed | allocated) return 0 ;;
    esac
    sleep 0.2
  done
  die "the node did not come up (state '${state:-none}'); logs in $dir/log"
}

up() {
  [[ $(id -u) -eq 0 ]] || die "needs root (slurmd runs jobs as any user)"
  for tool in munged mungekey slurmctld slurmd sbatch sinfo ss; do
    command -v "$tool" >/dev/null || die "$tool is missing: bash cluster/install-deps.sh"
  done
  if alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid"; then
    log "already up in $dir"
    print_env
    return 0
  fi
  local used
  for used in "$port" "$((port + 1))"; do
    if ss -Htln "sport = :$used" | grep -q .; then
      die "port $used is in use (another Slurm? SYNSHARD_SLURM_PORT picks others)"
    fi
  done
  mkdir -p "$dir"/{state,spool,log}
  write_config
  alive "$dir/munge/munged.pid" || start_munge
  alive "$dir/slurmctld.pid" || slurmctld -f "$conf" ||
    die "slurmctld did not start (see $dir/log/slurmctld.log)"
  alive "$dir/slurmd.pid" || slurmd -f "$conf" ||
    die "slurmd did not start (see $dir/log/slurmd.log)"
  wait_for_node
  log "up: $(hostname -s), $(SLURM_CONF=$conf sinfo -h -o '%c CPUs, partition %P') ($dir)"
  print_env
}

down() {
  [[ -d "$dir" ]] || return 0
  # Every job of this private cluster is ours: cancel them so that no rank outlives its
  # slurmd (linuxproc cannot reap a job's processes once slurmd is gone).
  if alive "$dir/slurmctld.pid" && [[ -n "$(SLURM_CONF=$conf squeue -h -o %i 2>/dev/null)" ]]; then
    SLURM_CONF=$conf scancel --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 120); do
      [[ -z "$(SLURM_CONF=$conf squeue -h -o %i 2>/dev/null)" ]] && break
      sleep 0.5
    done
  fi
  stop_pidfile "$dir/slurmd.pid"
  stop_pidfile "$dir/slurmctld.pid"
  stop_pidfile "$dir/munge/munged.pid"
  rm -rf "$dir"
  log "down"
}

status() {
  local name
  for name in munge/munged slurmctld slurmd; do
    if alive "$dir/$name.pid"; then
      echo "${name##*/}: running (pid $(cat "$dir/$name.pid"))"
    else
      echo "${name##*/}: not running"
    fi
  done
  alive "$dir/slurmctld.pid" || return 1
  SLURM_CONF=$conf sinfo
  SLURM_CONF=$conf squeue
}

case "$action" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) print_env ;;
  *) usage ;;
esac
