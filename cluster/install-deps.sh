#!/usr/bin/env bash
# Installs every Debian 12 package that synshard's build, tests and demo need.
# Idempotent and non-interactive; prints nothing when all goes well.
# Usage (as root, or with sudo available): bash cluster/install-deps.sh
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git
  # the man pages, made from the commands' --help at build time
  help2man
  # MPI and parallel HDF5
  openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools
  # images
  libopencv-dev libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libwebp-dev libexif-dev
  # corpus formats, hashing, metadata
  libarchive-dev zlib1g-dev libssl-dev libxxhash-dev nlohmann-json3-dev libpugixml-dev libmatio-dev
  libboost-program-options-dev wordnet-base
  # the Python package (python/; it uses numpy and lives beside python3-h5py, below)
  pybind11-dev python3-dev
  # synshard.torch, and the torchvision baselines `synshard bench --read` compares with
  python3-torch python3-torchvision
  # tests, benchmarks, fuzzing and code habits
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev clang-format clang-tidy
  python3 python3-h5py python3-numpy python3-pil python3-opencv time util-linux procps
  # cluster tests: a one-node Slurm, and network-namespace "nodes" (tests/cluster/)
  slurmctld slurmd slurm-client munge iproute2 iputils-ping
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${sudo_cmd[@]}" apt-get update -qq &&
       DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
         --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-deps: installing ${missing[*]} failed" >&2
  exit 1
fi
