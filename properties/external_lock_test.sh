#!/usr/bin/env bash
# lockstep as an installed package, used as a user would: install the build into a fresh
# prefix, copy examples/external-lock out of that prefix (so nothing points back into the
# source tree), configure and build it with only CMAKE_PREFIX_PATH=prefix, and check its
# lock: the search must find the documented hole (mutual exclusion), shrink it, and the
# written counterexample must replay to the same violation with `run`. Also: the package
# refuses a project that asks for the next major version (SameMajorVersion).
# usage: external_lock_test.sh BUILD_DIR
set -euo pipefail
build="$(cd "$1" && pwd)"
work="$(mktemp -d /tmp/lockstep-external-lock.XXXXXX)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cmake --install "$build" --prefix "$prefix" >"$work/install.log"
example="$work/external-lock"
cp -r "$prefix/share/doc/lockstep/examples/external-lock" "$example"

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$example" -B "$example/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}" >"$work/configure.log"
cmake --build "$example/build" -j2 >"$work/build.log" || { cat "$work/build.log"; exit 1; }
bin="$example/build/owner-note-check"

fail() { echo "external_lock_test: $*" >&2; exit 1; }

"$bin" --version | grep -q "^lockstep [0-9]*\.[0-9]*\.[0-9]* " || fail "no --version"
"$bin" algorithms >"$work/algorithms.txt"
grep -q "^owner-note$" "$work/algorithms.txt" || fail "owner-note is not in algorithms"
grep -q "^recipe$" "$work/algorithms.txt" || fail "the built-in algorithms are missing"

status=0
"$bin" check --algo owner-note --out "$work/cex" >"$work/check.txt" 2>&1 || status=$?
cat "$work/check.txt"
((status == 1)) || fail "check exited $status, expected 1 (a violation)"
grep -q "mutual-exclusion" "$work/check.txt" || fail "check did not report mutual-exclusion"
grep -qi "shrunk" "$work/check.txt" || fail "check did not shrink the counterexample"
cex="$(ls "$work"/cex/owner-note-*mutual-exclusion*.json | head -n 1)"
[ -f "$cex" ] || fail "no mutual-exclusion counterexample written"

status=0
"$bin" run "$cex" >"$work/replay.txt" 2>&1 || status=$?
((status == 1)) || { cat "$work/replay.txt"; fail "replay exited $status, expected 1"; }
grep -q "mutual-exclusion *FAIL" "$work/replay.txt" || { cat "$work/replay.txt"; fail "replay did not fail mutual-exclusion"; }
# The version file: SameMajorVersion, so a project asking for the next major is refused.
mkdir -p "$work/next-major"
printf 'cmake_minimum_required(VERSION 3.20)\nproject(p LANGUAGES CXX)\nfind_package(lockstep %s CONFIG REQUIRED)\n' \
  "$(("$("$bin" --version | sed 's/^lockstep \([0-9]*\)\..*/\1/')" + 1)).0" >"$work/next-major/CMakeLists.txt"
if cmake -S "$work/next-major" -B "$work/next-major/build" -DCMAKE_PREFIX_PATH="$prefix" \
  >"$work/next-major.log" 2>&1; then
  fail "find_package(lockstep NEXT_MAJOR) was accepted"
fi
grep -q "compatible with requested version" "$work/next-major.log" || { cat "$work/next-major.log"; fail "not refused by the version file"; }
echo "external_lock_test: the hole found, shrunk and replayed ($cex)"
