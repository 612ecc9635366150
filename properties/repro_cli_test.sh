#!/usr/bin/env bash
# `lockstep repro` as a user runs it: the built-in catalogue reproduces every claim; a
# variant changed to contradict its claim makes it exit 1; bad input is one line and
# exit 2; with LOCKSTEP_ZK set, --live runs the fault-free herd entry on that server.
# usage: repro_cli_test.sh LOCKSTEP_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"
src="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$bin" repro --all --out "$tmp/out" >"$tmp/all.txt" 2>&1
status=$?
[ "$status" -eq 0 ] || { cat "$tmp/all.txt"; fail "repro --all exited $status, want 0"; }
grep -q "NOT REPRODUCED" "$tmp/all.txt" && fail "repro --all printed NOT REPRODUCED"
[ -s "$tmp/out/repro.md" ] || fail "--out wrote no repro.md"
[ -s "$tmp/out/kleppmann-fencing--recipe-unfenced.trace.jsonl" ] || fail "--out wrote no trace"

# One variant turned against its claim: recipe-fenced says fencing fails.
cp -r "$src/docs/repro" "$tmp/catalogue"
python3 - "$tmp/catalogue/kleppmann-fencing/entry.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
for v in d["variants"]:
    if v["name"] == "recipe-fenced":
        v["expect"] = {"fail": ["mutual-exclusion", "fencing"]}
json.dump(d, open(p, "w"), indent=2)
PY
"$bin" repro --catalogue "$tmp/catalogue" kleppmann-fencing >"$tmp/contra.txt" 2>&1
status=$?
[ "$status" -eq 1 ] || { cat "$tmp/contra.txt"; fail "a contradicted claim exited $status, want 1"; }
grep -q "recipe-fenced (sim): NOT REPRODUCED" "$tmp/contra.txt" || fail "the contradicted variant is not named"
grep -q "departs: fencing held, the claim says it fails" "$tmp/contra.txt" || fail "no reason given"

# Bad input: one line on stderr, exit 2.
bad() {
  local want="$1"
  shift
  "$bin" repro "$@" >/dev/null 2>"$tmp/err.txt"
  local s=$?
  [ "$s" -eq 2 ] || fail "repro $* exited $s, want 2"
  [ "$(wc -l <"$tmp/err.txt")" -eq 1 ] || fail "repro $*: $(wc -l <"$tmp/err.txt") lines on stderr"
  grep -q -- "$want" "$tmp/err.txt" || fail "repro $*: '$(cat "$tmp/err.txt")' does not say $want"
}
bad 'no entry "meteor"' meteor
bad "give entry names or --all" 
bad "not both" --all kleppmann-fencing
bad "not a directory" --catalogue "$tmp/none" --all
echo '{"title": 1}' >"$tmp/catalogue/kleppmann-fencing/entry.json"
bad "kleppmann-fencing/entry.json: title has the wrong type" --catalogue "$tmp/catalogue" --all
bad "is not zk:HOST:PORT" --all --live localhost:2181

"$bin" repro --list >"$tmp/list.txt" 2>&1 || fail "repro --list failed"
grep -q "jepsen.io/analyses/etcd-3.4.3" "$tmp/list.txt" || fail "--list lacks the sources"

if [ -n "${LOCKSTEP_ZK:-}" ]; then
  "$bin" repro zookeeper-herd --live "zk:$LOCKSTEP_ZK" >"$tmp/live.txt" 2>&1
  status=$?
  [ "$status" -eq 0 ] || { cat "$tmp/live.txt"; fail "repro zookeeper-herd --live exited $status"; }
  [ "$(grep -c '(live): REPRODUCED' "$tmp/live.txt")" -eq 2 ] || { cat "$tmp/live.txt"; fail "the herd's two variants did not both run live"; }
fi

[ "$failures" -eq 0 ] && echo "repro_cli_test: all checks passed"
exit $((failures > 0))
