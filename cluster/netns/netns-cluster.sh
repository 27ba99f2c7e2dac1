#!/usr/bin/env bash
# Several "nodes" on one machine: Linux network namespaces on a bridge, for multi-node
# MPI runs over TCP without a second machine (root only).
#
#   bash cluster/netns/netns-cluster.sh up        # bridge, namespaces, hostfile, /etc/hosts
#   bash cluster/netns/netns-cluster.sh mpirun -np 6 build/src/synshard convert ...
#   bash cluster/netns/netns-cluster.sh status
#   bash cluster/netns/netns-cluster.sh down      # removes all of it again
#
# `up` makes a bridge (SYNSHARD_NETNS_BRIDGE, default ssbr0) holding .1 of a private /24
# (SYNSHARD_NETNS_NET, default 10.213.47), and N namespaces (SYNSHARD_NETNS_NODES, default
# 3) named synshard-n1.. with addresses .11, .12, ..., each joined to the bridge by a veth
# pair. Only addresses of that /24 are ever assigned; nothing is routed or NATed. The node
# names go into /etc/hosts (lines tagged "# synshard-netns", removed by `down`), and the
# state directory (SYNSHARD_NETNS_DIR, default /tmp/synshard-netns) gets a hostfile with
# SYNSHARD_NETNS_SLOTS (default 2) slots per node.
#
# `mpirun ARGS...` runs Open MPI's mpirun (in the machine's own namespace, reachable on
# the bridge) with that hostfile, rsh-agent.sh as its remote shell (it enters a node's
# namespaces) and TCP confined to the bridge's /24: exactly the flags a real cluster
# needs, with a real interface name or subnet instead (docs/CLUSTER.md).
# Exit codes: 0 ok, 1 failure, 2 usage; `mpirun` exits with mpirun's code.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${SYNSHARD_NETNS_DIR:-/tmp/synshard-netns}
bridge=${SYNSHARD_NETNS_BRIDGE:-ssbr0}
net=${SYNSHARD_NETNS_NET:-10.213.47}
nodes=${SYNSHARD_NETNS_NODES:-3}
slots=${SYNSHARD_NETNS_SLOTS:-2}
tag="# synshard-netns"

log() { echo "netns-cluster: $*" >&2; }
die() { log "$*"; exit 1; }
usage() { echo "usage: $0 up|down|status|mpirun ARGS..." >&2; exit 2; }

node_name() { echo "synshard-n$1"; }
node_addr() { echo "$net.$((10 + $1))"; }

up() {
  [[ $(id -u) -eq 0 ]] || die "needs root (CAP_NET_ADMIN) to create namespaces and a bridge"
  command -v ip >/dev/null || die "ip is missing (Debian package iproute2)"
  ip link show "$bridge" >/dev/null 2>&1 && die "$bridge exists already: run '$0 down' first"
  mkdir -p "$dir"
  ip link add "$bridge" type bridge
  ip addr add "$net.1/24" dev "$bridge"
  ip link set "$bridge" up
  : >"$dir/hostfile"
  local i name
  for i in $(seq "$nodes"); do
    name=$(node_name "$i")
    ip netns add "$name"
    ip link add "veth-ss$i" type veth peer name eth0 netns "$name"
    ip link set "veth-ss$i" master "$bridge" up
    ip -n "$name" addr add "$(node_addr "$i")/24" dev eth0
    ip -n "$name" link set eth0 up
    ip -n "$name" link set lo up
    echo "$(node_addr "$i") $name $tag" >>/etc/hosts
    echo "$name slots=$slots" >>"$dir/hostfile"
  done
  # Every node must reach the bridge (where mpirun listens) and each other node.
  for i in $(seq "$nodes"); do
    ip netns exec "$(node_name "$i")" ping -c 1 -W 2 "$net.1" >/dev/null ||
      die "$(node_name "$i") cannot reach $net.1 over $bridge"
  done
  log "up: $nodes nodes on $bridge ($net.0/24), hostfile $dir/hostfile"
}

down() {
  local i name
  for i in $(seq "$nodes"); do
    name=$(node_name "$i")
    ip link del "veth-ss$i" 2>/dev/null || true
    ip netns del "$name" 2>/dev/null || true
  done
  ip link del "$bridge" 2>/dev/null || true
  # Only the lines this script added; rewritten in place (/etc/hosts may be a bind mount).
  if grep -q -- "$tag\$" /etc/hosts; then
    local kept
    kept=$(grep -v -- "$tag\$" /etc/hosts)
    printf '%s\n' "$kept" >/etc/hosts
  fi
  rm -rf "$dir"
}

status() {
  ip -brief addr show "$bridge" 2>/dev/null || { echo "no bridge $bridge"; return 1; }
  ip netns list | grep synshard-n || true
  grep -- "$tag\$" /etc/hosts || true
}

run_mpirun() {
  [[ -s "$dir/hostfile" ]] || die "not up: run '$0 up' first"
  local flags=(--hostfile "$dir/hostfile" --mca plm_rsh_agent "$here/rsh-agent.sh"
    --mca btl vader,tcp,self --mca btl_tcp_if_include "$net.0/24"
    --mca oob_tcp_if_include "$net.0/24")
  [[ $(id -u) -ne 0 ]] || flags+=(--allow-run-as-root)
  exec mpirun "${flags[@]}" "$@"
}

[[ $# -ge 1 ]] || usage
action=$1
shift
case "$action" in
  up) up ;;
  down) down ;;
  status) status ;;
  mpirun) run_mpirun "$@" ;;
  *) usage ;;
esac
