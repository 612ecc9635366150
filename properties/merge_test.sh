#!/usr/bin/env bash
# `lockstep check --shard K/N` + `lockstep merge` give the unsharded result byte for byte:
# for `check --all` (matrix.json, matrix.md, every counterexample file) and for `check
# --algo` (the counterexample, the explanation, the exit status); and merge refuses shards
# that are not the parts of one search with one line and status 2.
# usage: merge_test.sh LOCKSTEP_BINARY
set -uo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Runs `lockstep ARGS` unsharded in $tmp/NAME/whole and as N shards merged in
# $tmp/NAME/merged, both with --out result (so the paths inside are the same), and
# compares the result directories and stdout.
compare() {
  local name="$1" n="$2"
  shift 2
  local base="$tmp/$name"
  mkdir -p "$base/whole" "$base/merged"
  (cd "$base/whole" && "$bin" "$@" --out result --jobs 2 >stdout.txt 2>stderr.txt)
  local want=$?
  for k in $(seq 0 $((n - 1))); do
    "$bin" "$@" --shard "$k/$n" --out "$base/shard-$k" --jobs 2 >"$base/shard-$k.txt" 2>&1
    local s=$?
    [ "$s" -le 1 ] || { cat "$base/shard-$k.txt"; fail "$name: shard $k/$n exited $s"; }
    [ -f "$base/shard-$k/lockstep-shard-$k-of-$n.json" ] || fail "$name: shard $k wrote no shard file"
  done
  (cd "$base/merged" && "$bin" merge "$base"/shard-*/ --out result --jobs 2 >stdout.txt 2>stderr.txt)
  local got=$?
  [ "$got" -eq "$want" ] || { cat "$base/merged/stderr.txt"; fail "$name: merge exited $got, unsharded $want"; }
  diff -r "$base/whole/result" "$base/merged/result" >"$base/diff.txt" ||
    { head -20 "$base/diff.txt"; fail "$name: merged result differs from the unsharded one"; }
  echo "$name: unsharded exit $want, $(ls "$base/whole/result" | wc -l) files; merged from $n shards: identical"
}

compare all 3 check --all --algo zk-slow,recipe,redlock --runs 30 --seed 5
cmp "$tmp/all/whole/result/matrix.json" "$tmp/all/merged/result/matrix.json" || fail "matrix.json differs"
grep -q '"violated"' "$tmp/all/whole/result/matrix.json" || fail "all: no violated cell: the test shows too little"
compare algo-fails 3 check --algo zk-slow --faults pause --runs 60
cmp "$tmp/algo-fails/whole/stdout.txt" "$tmp/algo-fails/merged/stdout.txt" || fail "algo-fails: the explanation differs"
grep -q VIOLATION "$tmp/algo-fails/merged/stdout.txt" || fail "algo-fails: no violation found: the test shows too little"
[ "$(ls "$tmp/algo-fails/merged/result" | wc -l)" -eq 2 ] || fail "algo-fails: want one counterexample and its trace"
compare algo-holds 3 check --algo recipe --faults none --runs 30
grep -q "all 30 runs held" "$tmp/algo-holds/merged/stdout.txt" || fail "algo-holds: $(cat "$tmp/algo-holds/merged/stdout.txt")"

# Refusals: one line on stderr, status 2.
refused() {
  local want="$1"
  shift
  "$bin" merge "$@" --out "$tmp/refused" >/dev/null 2>"$tmp/err.txt"
  local s=$?
  [ "$s" -eq 2 ] || fail "merge $*: exited $s, want 2"
  [ "$(wc -l <"$tmp/err.txt")" -eq 1 ] || fail "merge $*: $(wc -l <"$tmp/err.txt") lines on stderr"
  grep -q -- "$want" "$tmp/err.txt" || fail "merge $*: '$(cat "$tmp/err.txt")' does not say $want"
}
a="$tmp/all"
refused "shard 2/3 missing" "$a/shard-0" "$a/shard-1"
refused "shard 1/3 given twice" "$a/shard-0" "$a/shard-1" "$a/shard-1" "$a/shard-2"
"$bin" check --all --algo zk-slow,recipe,redlock --runs 30 --seed 6 --shard 1/3 --out "$tmp/seed6" >/dev/null 2>&1
refused "has --seed 6 but shard 0/3 .* has --seed 5" "$a/shard-0" "$tmp/seed6" "$a/shard-2"
"$bin" check --all --algo zk-slow,recipe,redlock --runs 40 --seed 5 --shard 1/3 --out "$tmp/runs40" >/dev/null 2>&1
refused "has --runs 40" "$a/shard-0" "$tmp/runs40" "$a/shard-2"
"$bin" check --all --algo zk-slow,recipe --runs 30 --seed 5 --shard 1/3 --out "$tmp/algos" >/dev/null 2>&1
refused "has --algo zk-slow,recipe but" "$a/shard-0" "$tmp/algos" "$a/shard-2"
"$bin" check --all --algo zk-slow,recipe,redlock --runs 30 --seed 5 --shard 1/4 --out "$tmp/of4" >/dev/null 2>&1
refused "split the search differently" "$a/shard-0" "$tmp/of4" "$a/shard-2"
refused "has check --algo but" "$a/shard-0" "$tmp/algo-fails/shard-1" "$a/shard-2"
cp -r "$a/shard-1" "$tmp/old"
sed -i 's/"version": "[^"]*"/"version": "0.0.1"/' "$tmp/old/lockstep-shard-1-of-3.json"
refused "is from lockstep 0.0.1 but" "$a/shard-0" "$tmp/old" "$a/shard-2"
cp -r "$a/shard-1" "$tmp/build"
sed -i 's/"fingerprint": "[^"]*"/"fingerprint": "0123456789abcdef"/' "$tmp/build/lockstep-shard-1-of-3.json"
refused "different builds" "$a/shard-0" "$tmp/build" "$a/shard-2"
refused "holds no lockstep-shard-K-of-N.json" "$a/shard-0" "$tmp/algo-fails/whole"
# A shard's claimed failure is run again before it is shrunk and reported: a file that
# claims one the search does not have is refused, not written as a violation that does
# not replay (exit 3).
h="$tmp/algo-holds"
cp -r "$h/shard-0" "$tmp/claims"
sed -i 's/"first_failure": null/"first_failure": {"case": 0, "checker": "mutual-exclusion"}/' \
  "$tmp/claims/lockstep-shard-0-of-3.json"
refused 'case 0 does not fail "mutual-exclusion"' "$tmp/claims" "$h/shard-1" "$h/shard-2"
cp -r "$a/shard-0" "$tmp/cell-claims"
sed -i '0,/"first_failure": -1/s//"first_failure": 0/' "$tmp/cell-claims/lockstep-shard-0-of-3.json"
refused "the shards say case 0 of zk-slow/none fails" "$tmp/cell-claims" "$a/shard-1" "$a/shard-2"
cp -r "$a/shard-0" "$tmp/float"
sed -i '0,/"first_failure": -1/s//"first_failure": -1e300/' "$tmp/float/lockstep-shard-0-of-3.json"
refused "first_failure is -1e+300, not an integer" "$tmp/float" "$a/shard-1" "$a/shard-2"
"$bin" merge "$a/shard-0" --out "$a/shard-0" >/dev/null 2>"$tmp/err.txt"
grep -q "one of the shard directories" "$tmp/err.txt" || fail "--out a shard dir: $(cat "$tmp/err.txt")"
"$bin" merge --help | grep -q "usage: lockstep merge" || fail "merge --help"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "merge: all good"
