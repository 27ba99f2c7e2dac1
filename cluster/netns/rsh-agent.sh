#!/usr/bin/env bash
# Open MPI's "remote shell" for the network-namespace nodes of netns-cluster.sh:
#   rsh-agent.sh NODE COMMAND...
# mpirun (--mca plm_rsh_agent this-script) calls it like ssh to start its daemon (orted)
# on NODE. Instead of logging in somewhere, it enters NODE's network namespace and, inside
# it, new UTS and mount namespaces: the hostname becomes NODE and /dev/shm a private tmpfs.
# Without those, all "nodes" would share the machine's hostname and /dev/shm, and Open
# MPI's session directories (/tmp/ompi.HOSTNAME...) and shared-memory segments
# (/dev/shm/vader_segment.HOSTNAME...) of different nodes would collide.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 NODE COMMAND..." >&2; exit 2; }
node=$1
shift
# unshare's default propagation is private, so the tmpfs stays inside this node.
exec ip netns exec "$node" unshare --uts --mount /bin/bash -c \
  'hostname "$1" && mount -t tmpfs -o mode=1777 tmpfs /dev/shm && exec /bin/bash -c "$2"' \
  rsh-agent "$node" "$*"
