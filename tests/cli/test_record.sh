#!/bin/sh
# tests/cli/test_record.sh: `gort-trace record`.
#  1. With a stand-in library (GORT_PRELOAD_LIB=fake): environment passed to
#     the command (LD_PRELOAD prepended, absolute GORT_TRACE), default output
#     name, exit status and death by signal passed through, one-line errors.
#  2. With the real libgort-preload.so when the build has it (found from the
#     build tree, as an installed gort-trace finds it next to itself):
#     traces of standard programs validate and their output is unchanged.
GT=$1
FAKE=$2
BUILD_KIND=${3:-plain}
. "$(dirname "$0")/lib.sh"

cd "$TMP" || exit 1
rm -f ./*.trace
export GORT_PRELOAD_LIB="$FAKE"
LD_PRELOAD= "$GT" record -o out.trace -- sh -c 'echo "$LD_PRELOAD|$GORT_TRACE"; exit 3' >"$TMP/o" 2>"$TMP/e"
check_eq "exit status of the command" $? 3
check_eq "LD_PRELOAD and GORT_TRACE given to the command" "$(cat "$TMP/o")" "$(realpath "$FAKE")|$TMP/out.trace"
check_grep "says where the trace is" "gort-trace: record: wrote out.trace (11 bytes)" "$TMP/e"
LD_PRELOAD=/nonexistent-but-kept.so "$GT" record -q -o out.trace -- sh -c 'echo "$LD_PRELOAD"' >"$TMP/o" 2>/dev/null
check_eq "existing LD_PRELOAD kept after ours" "$(cat "$TMP/o")" "$(realpath "$FAKE"):/nonexistent-but-kept.so"
"$GT" record -q -- sh -c 'true'
check_eq "status 0" $? 0
if [ -f "$TMP/sh.trace" ]; then ok "default output: CMD.trace in the current directory"; else fail "no sh.trace"; fi
"$GT" record -q -- sh -c 'kill -TERM $$'
check_eq "killed by SIGTERM -> 128+15" $? 143
check_err "command not found" "cannot run: No such file or directory" "$GT" record -- ./no-such-program-here
"$GT" record -q -- ./no-such-program-here 2>/dev/null
check_eq "command not found -> 127" $? 127
"$GT" record -q -- sh -c 'echo $#:$1:$2' x -n --weird >"$TMP/o"
check_eq "command's own options untouched" "$(cat "$TMP/o")" "2:-n:--weird"
"$GT" record -q -o "$TMP/two.trace" sh -c 'exit 0'
check_eq "works without --" $? 0
unset GORT_PRELOAD_LIB

REAL=$GORT_BINARY_DIR/preload/libgort-preload.so
if [ ! -f "$REAL" ] || [ "$BUILD_KIND" = sanitized ]; then
	echo "note: $REAL not built (or built with sanitizers); real-library part skipped"
	[ $GT_FAILED -eq 0 ] || finish
	echo "$GT_PASSED passed, $GT_FAILED failed (real library absent)"
	exit 0
fi
seq 1000 -1 1 >"$TMP/in.txt"
sort -n "$TMP/in.txt" >"$TMP/want.txt"
"$GT" record -o "$TMP/sort.trace" -- sort -n "$TMP/in.txt" >"$TMP/got.txt" 2>"$TMP/e"
check_eq "sort under record: status" $? 0
if cmp -s "$TMP/want.txt" "$TMP/got.txt"; then ok "sort output unchanged"; else fail "sort output differs"; fi
check "sort trace validates" "$GT" validate "$TMP/sort.trace"
# the interpreter itself, not a wrapper script that execs it (pyenv shims)
PY=$(python3 -c 'import sys; print(sys.executable)')
"$GT" record -q -o "$TMP/py.trace" -- "$PY" -c 'import threading; ts=[threading.Thread(target=sum, args=(range(100000),)) for _ in range(4)]; [t.start() for t in ts]; [t.join() for t in ts]; print("py ok")' >"$TMP/o"
check_eq "python3 under record" "$(cat "$TMP/o")" "py ok"
check "python trace validates" "$GT" validate "$TMP/py.trace"
"$GT" stats --json "$TMP/py.trace" >"$TMP/py.json"
json_check "python trace: main + 4 threads at least" "$TMP/py.json" "d['goroutines'] >= 5"
json_check "python trace: the joins block" "$TMP/py.json" "max(g['blocked_ns'] for g in d['goroutine_list']) > 0"
"$GT" record -q -o "$TMP/exit.trace" -- "$PY" -c 'import sys; sys.exit(7)'
check_eq "python exit status passed through" $? 7
finish
