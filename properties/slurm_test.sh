#!/usr/bin/env bash
# scripts/slurm on a real (one-node) Slurm: starts slurmctld, slurmd and munged in a
# temporary dir (scripts/slurm/one-node), submits a `check --all` as an array of 4 shards
# and the dependent merge (scripts/slurm/submit --wait), and checks that the merged
# matrix and counterexamples equal the unsharded run's byte for byte. Fails (never skips)
# when Slurm cannot be started: scripts/test installs it (scripts/deps) and runs as root.
# usage: slurm_test.sh LOCKSTEP_BINARY SOURCE_DIR
set -uo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
src="$2"
runs="${LOCKSTEP_SLURM_TEST_RUNS:-20}"
tmp="$(mktemp -d /tmp/lockstep-slurm-test.XXXXXX)"
chmod 755 "$tmp"
cleanup() {
  "$src/scripts/slurm/one-node" stop "$tmp/slurm" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 143" INT TERM HUP

conf="$("$src/scripts/slurm/one-node" start "$tmp/slurm")" || {
  echo "FAIL: cannot start a one-node Slurm (needs root, slurm-wlm and munge; scripts/deps installs them)"
  exit 1
}
export SLURM_CONF="$conf"
echo "slurm: one node up ($SLURM_CONF)"

start=$(date +%s)
mkdir -p "$tmp/whole" "$tmp/sharded"
(cd "$tmp/whole" && "$bin" check --all --runs "$runs" --jobs 2 --out matrix >stdout.txt 2>&1)
want=$?
echo "slurm: unsharded check --all --runs $runs: exit $want in $(($(date +%s) - start)) s"

start=$(date +%s)
(cd "$tmp/sharded" && "$src/scripts/slurm/submit" --shards 4 --work "$tmp/work" --out matrix \
  --lockstep "$bin" --wait -- check --all --runs "$runs" >stdout.txt 2>&1)
got=$?
echo "slurm: 4 array tasks + merge: exit $got in $(($(date +%s) - start)) s"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
[ "$got" -eq "$want" ] || { cat "$tmp/sharded/stdout.txt"; fail "the merge exited $got, the unsharded check $want"; }
for k in 0 1 2 3; do
  [ -f "$tmp/work/shard-$k/lockstep-shard-$k-of-4.json" ] || fail "array task of shard $k/4 wrote no shard file"
done
cmp "$tmp/whole/matrix/matrix.json" "$tmp/sharded/matrix/matrix.json" || fail "matrix.json differs"
cmp "$tmp/whole/matrix/matrix.md" "$tmp/sharded/matrix/matrix.md" || fail "matrix.md differs"
diff -r "$tmp/whole/matrix" "$tmp/sharded/matrix" >"$tmp/diff.txt" ||
  { head -20 "$tmp/diff.txt"; fail "the merged result differs from the unsharded one"; }
files=$(ls "$tmp/whole/matrix" | wc -l)
[ "$files" -gt 2 ] || fail "only $files files: no counterexample, the test shows too little"
if [ "$failures" -ne 0 ]; then
  for f in "$tmp"/work/logs/*.out; do echo "== $f"; tail -5 "$f"; done
  exit 1
fi
echo "slurm: merged matrix.json, matrix.md and $((files - 2)) counterexample files equal the unsharded ones"
