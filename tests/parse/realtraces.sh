#!/bin/sh
# tests/parse/realtraces.sh TP_DUMP GOSEED2BIN: traces of real Go 1.22
# programs and Go's own fuzz corpus, made at test time with the installed Go:
#   - Go's trace test programs ($GOROOT/src/internal/trace/v2/testdata/testprog)
#     and our tests/parse/goprog/workload.go, run with `go run`;
#   - Go's FuzzReader corpus (testdata/fuzz/FuzzReader), decoded to bytes.
# For each: Go's reader+validator (gotracevalidate -log-events) and ours must
# agree on accept/reject; when both accept, the events per thread must match
# (compare.sh). Exit 77 (skip) without Go.
set -u
DUMP=$1 SEED2BIN=$2
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "${GORT_GO_VALIDATE:-}" ] && [ -x "${GORT_GO:-}" ] || { echo "no Go 1.22: skip"; exit 77; }
GOROOT=$("$GORT_GO" env GOROOT)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOCACHE="${GORT_BINARY_DIR:-/tmp}/gocache"
T=${GORT_TEST_TMPDIR:-/tmp}/realtraces
mkdir -p "$T"
pass=0 fail=0

check() {  # check NAME FILE [must-accept]
  "$GORT_GO_VALIDATE" -log-events < "$2" 2> "$T/$1.go"; g=$?
  "$DUMP" "$2" > "$T/$1.ours" 2> "$T/$1.err"; o=$?
  if [ $g -eq 0 ] && [ $o -ne 0 ]; then
    echo "FAIL $1: Go accepts it, we reject it: $(cat "$T/$1.err")"; fail=$((fail+1)); return
  fi
  if [ $g -ne 0 ] && [ $o -eq 0 ]; then
    echo "FAIL $1: Go rejects it ($(head -c 200 "$T/$1.go")), we accept it"; fail=$((fail+1)); return
  fi
  if [ "${3:-}" = must-accept ] && [ $g -ne 0 ]; then
    echo "FAIL $1: a real program's trace is rejected by Go: $(head -c 200 "$T/$1.go")"; fail=$((fail+1)); return
  fi
  if [ $g -eq 0 ] && ! sh "$HERE/compare.sh" "$T/$1.go" "$T/$1.ours"; then
    echo "FAIL $1: event streams differ"; fail=$((fail+1)); return
  fi
  if [ $g -eq 0 ]; then echo "ok   $1 (same $(grep -c '^M=' "$T/$1.ours") events)"
  else echo "ok   $1 (both reject: $(head -c 100 "$T/$1.err"))"; fi
  pass=$((pass+1))
}

for p in annotations gc-stress many-start-stop stress; do
  src=$GOROOT/src/internal/trace/v2/testdata/testprog/$p.go
  [ -f "$src" ] || continue
  if ! "$GORT_GO" run "$src" > "$T/$p.trace" 2> "$T/$p.log"; then
    echo "FAIL $p: go run failed: $(tail -3 "$T/$p.log")"; fail=$((fail+1)); continue
  fi
  check "testprog-$p" "$T/$p.trace" must-accept
done

if "$GORT_GO" run "$HERE/goprog/workload.go" -d 200ms -o "$T/workload.trace" 2> "$T/workload.log"; then
  check workload "$T/workload.trace" must-accept
else
  echo "FAIL workload: go run failed: $(tail -3 "$T/workload.log")"; fail=$((fail+1))
fi

for f in "$GOROOT"/src/internal/trace/v2/testdata/fuzz/FuzzReader/*; do
  n=fuzz-$(basename "$f")
  "$SEED2BIN" "$f" > "$T/$n.bin" || { echo "FAIL $n: cannot decode"; fail=$((fail+1)); continue; }
  check "$n" "$T/$n.bin"
done

echo "$pass passed, $fail failed"
[ $pass -gt 0 ] && [ $fail -eq 0 ]
