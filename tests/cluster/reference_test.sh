#!/usr/bin/env bash
# Fixture of the cluster tests: the sample corpus (jobs/sample.ini) and its conversion by
# a plain `mpirun -np 2` on this node, the reference every cluster run must equal byte
# for byte. Needs nothing but Open MPI.
source "$(dirname "$0")/common.sh"

rm -rf "$reference"
mkdir -p "$reference"
# jobs/sample.ini's relative paths (sample/corpus, sample/out) resolve in $reference.
cd "$reference"
"$synshard" synth --config "$source_dir/jobs/sample.ini" >/dev/null
status=0
mpirun "${mpirun_flags[@]}" -np 2 "$synshard" convert --config "$source_dir/jobs/sample.ini" \
  --quiet || status=$?
conversion_succeeded "$status" || fail "reference conversion exited with $status"
count=$(shard_hashes "$reference/sample/out" | wc -l)
((count >= 2)) || fail "the reference has $count shards; the sample should give several"
say "reference: $count shards in $reference/sample/out (exit code $status)"
