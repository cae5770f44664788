#!/bin/sh
# tests/parse/conformance.sh TP_DUMP: Go 1.22's golden reader tests, built at
# test time from the installed Go sources (nothing is copied from Go).
#
# For every $GOROOT/src/internal/trace/v2/testdata/tests/NAME.test (txtar: an
# "expect" section, SUCCESS or FAILURE "<regexp>", and a "trace" section in
# Go's text format): the trace is turned into bytes with Go's gotraceraw
# (GORT_GO_RAW, built by the build), then
#   SUCCESS: our reader and Go's (gotracevalidate -log-events) must both accept
#            it with the same events per thread (compare.sh);
#   FAILURE: our reader must reject it, with an error matching the regexp.
# Exit 77 (skip) without Go.
set -u
DUMP=$1
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "${GORT_GO_RAW:-}" ] && [ -x "${GORT_GO_VALIDATE:-}" ] && [ -x "${GORT_GO:-}" ] || { echo "no Go 1.22: skip"; exit 77; }
GOROOT=$("$GORT_GO" env GOROOT)
TESTS=$GOROOT/src/internal/trace/v2/testdata/tests
T=${GORT_TEST_TMPDIR:-/tmp}/conformance
mkdir -p "$T"
pass=0 fail=0
for t in "$TESTS"/*.test; do
  n=$(basename "$t" .test)
  exp=$(awk '/^-- expect --$/{s=1;next} /^-- /{s=0} s' "$t" | head -1)
  awk 'f{print} /^-- trace --$/{f=1}' "$t" > "$T/$n.txt"
  if ! "$GORT_GO_RAW" text2bytes < "$T/$n.txt" > "$T/$n.trace"; then
    echo "FAIL $n: gotraceraw could not encode the trace"; fail=$((fail+1)); continue
  fi
  "$DUMP" "$T/$n.trace" > "$T/$n.ours" 2> "$T/$n.err"; ours=$?
  case "$exp" in
  SUCCESS)
    if [ $ours -ne 0 ]; then
      echo "FAIL $n: Go accepts it, we reject it: $(cat "$T/$n.err")"; fail=$((fail+1)); continue
    fi
    "$GORT_GO_VALIDATE" -log-events < "$T/$n.trace" 2> "$T/$n.go" || {
      echo "FAIL $n: Go's validator rejects a SUCCESS case?"; fail=$((fail+1)); continue; }
    if ! sh "$HERE/compare.sh" "$T/$n.go" "$T/$n.ours"; then
      echo "FAIL $n: event streams differ"; fail=$((fail+1)); continue
    fi
    ;;
  FAILURE*)
    re=$(printf '%s' "$exp" | sed 's/^FAILURE "\(.*\)"$/\1/')
    if [ $ours -eq 0 ]; then
      echo "FAIL $n: Go rejects it ($re), we accept it"; fail=$((fail+1)); continue
    fi
    if ! grep -Eq -- "$re" "$T/$n.err"; then
      echo "FAIL $n: our error does not match /$re/: $(cat "$T/$n.err")"; fail=$((fail+1)); continue
    fi
    ;;
  *) echo "FAIL $n: unknown expectation '$exp'"; fail=$((fail+1)); continue ;;
  esac
  echo "ok   $n ($(grep -c '^M=' "$T/$n.ours") events)"
  pass=$((pass+1))
done
echo "$pass passed, $fail failed"
[ $pass -gt 0 ] && [ $fail -eq 0 ]
