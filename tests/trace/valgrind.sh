#!/bin/sh
# tests/trace/valgrind.sh PROGRAM: run a traced PROGRAM (GORT_TRACE set to a
# file in the test's directory) under memcheck with tests/valgrind.sh (no
# error, no definite or indirect leak), then check the trace it wrote with
# Go 1.22's validator (gort's own when Go is absent). Exit 77 (skip) without
# valgrind.
here=$(cd "$(dirname "$0")" && pwd)
tmp=${GORT_TEST_TMPDIR:-/tmp}
trace=$tmp/valgrind.trace
rm -f "$trace"
GORT_TRACE=$trace sh "$here/../valgrind.sh" "$@"
rc=$?
[ $rc -eq 0 ] || exit $rc
[ -s "$trace" ] || { echo "FAIL: no trace written at $trace"; exit 1; }
if [ -n "${GORT_GO_VALIDATE:-}" ] && [ -x "$GORT_GO_VALIDATE" ]; then
	"$GORT_GO_VALIDATE" < "$trace" || { echo "FAIL: Go's validator rejects $trace"; exit 1; }
else
	"$GORT_BINARY_DIR/tools/gort-trace/gort-trace" validate "$trace" || { echo "FAIL: gort-trace validate"; exit 1; }
fi
echo "trace ok"
