#!/usr/bin/env bash
# scripts/zk keeps its state as data in a private dir: a state dir another user planted,
# a symlinked or world-writable one, and a forged state file (code to run, a data dir to
# delete that start did not make) are each refused with one line, and nothing is run,
# killed or removed. usage: scripts_zk_state_test.sh SCRIPTS_ZK
set -uo pipefail
zk=${1:?usage: scripts_zk_state_test.sh SCRIPTS_ZK}
work=$(mktemp -d /tmp/lockstep-zk-state-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
pass() { echo "ok   $1"; }
flunk() { echo "FAIL $1" >&2; failures=$((failures + 1)); }

# expect_refused NAME PATTERN CMD...: CMD exits non-zero with one line matching PATTERN.
expect_refused() {
  local name=$1 pattern=$2 out status
  shift 2
  out=$("$@" 2>&1)
  status=$?
  if ((status == 0)); then
    flunk "$name: exit 0 (output: $out)"
  elif [[ $(wc -l <<<"$out") -ne 1 ]] || ! grep -q -- "$pattern" <<<"$out"; then
    flunk "$name: expected one line matching '$pattern', got: $out"
  else
    pass "$name"
  fi
}

mkstate() { (umask 077 && mkdir -p "$1"); }

# A forged state file that tries to run code: nothing runs.
state="$work/code"
mkstate "$state"
printf 'NODES=1\nDATA_ROOT=%s\nOWN_DIR=1\nPORT_1=2181\n$(touch %s/pwned)\n' "$work/nodata" "$work" >"$state/state"
LOCKSTEP_ZK_STATE=$state expect_refused "state line with a command" "malformed line" "$zk" status
[[ -e $work/pwned ]] && flunk "a state line was run as code" || pass "no state line was run"
printf 'NODES=1;touch %s/pwned2\nDATA_ROOT=%s\nOWN_DIR=1\nPORT_1=2181\n' "$work" "$work/nodata" >"$state/state"
LOCKSTEP_ZK_STATE=$state expect_refused "state value with a command" "NODES is not a number" "$zk" stop
[[ -e $work/pwned2 ]] && flunk "a state value was run as code" || pass "no state value was run"
printf 'NODES=1\nDATA_ROOT=%s\nOWN_DIR=1\nPORT_1=2181\nPATH=/nonexistent\n' "$work/nodata" >"$state/state"
LOCKSTEP_ZK_STATE=$state expect_refused "state file with an unknown key" "unknown key 'PATH'" "$zk" connect

# A forged state file pointing stop's rm -rf at a directory start did not make: kept.
victim="$work/victim"
mkdir -p "$victim/node1" && touch "$victim/node1/precious"
printf 'NODES=1\nSTANDALONE=0\nDATA_ROOT=%s\nOWN_DIR=1\nPORT_1=2181\n' "$victim" >"$state/state"
LOCKSTEP_ZK_STATE=$state expect_refused "data dir start did not make" "not a data dir that start made" "$zk" stop
[[ -e $victim/node1/precious ]] && pass "the forged data dir was kept" || flunk "stop removed a forged data dir"

# A state file of the earlier format (DATA_ROOT='PATH') is still read: stop cleans up.
old="$work/old"
mkstate "$old"
olddata=$(mktemp -d "${TMPDIR:-/tmp}/lockstep-zk-data.XXXXXX")
mkdir -p "$olddata/node1"
printf "NODES=1\nSTANDALONE=0\nDATA_ROOT='%s'\nOWN_DIR=1\nPORT_1=2999\n" "$olddata" >"$old/state"
if LOCKSTEP_ZK_STATE=$old "$zk" stop >/dev/null 2>&1 && [[ ! -e $olddata ]]; then
  pass "an earlier state file is read and cleaned up"
else
  flunk "an earlier state file (quoted DATA_ROOT) was not read"
  rm -rf "$olddata"
fi

# A symlinked state dir, and one writable by others.
ln -s "$state" "$work/link"
LOCKSTEP_ZK_STATE=$work/link expect_refused "symlinked state dir" "is a symlink" "$zk" status
open="$work/open"
mkdir -p "$open" && chmod 777 "$open"
LOCKSTEP_ZK_STATE=$open expect_refused "state dir writable by others" "writable by others" "$zk" start

# A state dir planted by another user (needs root to plant one).
if [[ $(id -u) == 0 ]] && id nobody >/dev/null 2>&1; then
  planted="$work/planted"
  mkdir -p "$planted" && chmod 700 "$planted" && chown nobody "$planted"
  LOCKSTEP_ZK_STATE=$planted expect_refused "state dir of another user (start)" "belongs to another user" "$zk" start
  LOCKSTEP_ZK_STATE=$planted expect_refused "state dir of another user (stop)" "belongs to another user" "$zk" stop
  [[ -e $planted/state ]] && flunk "start wrote into a planted dir" || pass "nothing written into the planted dir"
else
  echo "skip planted-dir cases: not root (cannot plant a dir of another user)"
fi

# A fresh state dir is created private, whatever the umask (a real start: about 2 s).
fresh="$work/fresh"
if (umask 000 && LOCKSTEP_ZK_STATE=$fresh "$zk" start >/dev/null 2>&1); then
  mode=$(stat -c %a "$fresh")
  [[ $mode == 700 ]] && pass "a new state dir is private" || flunk "new state dir has mode $mode"
  LOCKSTEP_ZK_STATE=$fresh "$zk" stop >/dev/null 2>&1
else
  flunk "scripts/zk start failed with a fresh state dir"
fi

((failures == 0)) || { echo "$failures failure(s)" >&2; exit 1; }
echo "all passed"
