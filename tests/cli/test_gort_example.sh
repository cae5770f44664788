#!/bin/sh
# tests/cli/test_gort_example.sh: a trace written by gort's own tracer (the
# trace_workers example) through validate, stats and export. Registered
# only when include/gort/trace.h and the example exist. The example gets
# the output path both as its argument and as GORT_TRACE.
GT=$1
EX=$2
. "$(dirname "$0")/lib.sh"
OUT=$TMP/workers.trace
rm -f "$OUT"
( cd "$TMP" && GORT_TRACE="$OUT" "$EX" "$OUT" ) >"$TMP/ex.out" 2>&1
st=$?
check_eq "example exit status" $st 0
if [ ! -s "$OUT" ]; then fail "example wrote no trace at $OUT: $(head -c 400 "$TMP/ex.out")"; if [ -n "${GORT_GO_TRACE_TOOL:-}" ] && [ -x "$GORT_GO_TRACE_TOOL" ]; then
	"$GORT_GO_TRACE_TOOL" -d=1 "$OUT" >"$TMP/go.dump" 2>&1
	"$GT" dump --go "$OUT" >"$TMP/gt.dump"
	if cmp -s "$TMP/go.dump" "$TMP/gt.dump"; then ok "dump --go = go tool trace -d=1 on a gort trace"
	else fail "dump --go differs from Go: $(diff "$TMP/go.dump" "$TMP/gt.dump" | head -3)"; fi
fi
finish; fi
check "validate gort trace" "$GT" validate "$OUT"
check "stats gort trace" "$GT" stats "$OUT"
"$GT" stats --json "$OUT" >"$TMP/w.json"
json_check "stats: several threads" "$TMP/w.json" "d['goroutines'] >= 2 and d['events'] > 0"
json_check "stats: consistent per-thread times" "$TMP/w.json" \
	"all(g['total_ns'] <= d['duration_ns'] for g in d['goroutine_list'])"
# the tracer's zero-length "syscall" block after each syscall is no blocking
json_check "stats: syscall end markers are not blocking" "$TMP/w.json" \
	"all('syscall' not in g['blocked_by_reason_ns'] for g in d['goroutine_list']) and any(s['kind'] == 'syscall' for s in d['blocking_sites']) and all(s.get('reason') != 'syscall' for s in d['blocking_sites'] if s['kind'] != 'syscall')"
check "export gort trace" "$GT" export --format=perfetto "$OUT" -o "$TMP/w.perfetto.json"
check "export is JSON" "$PY" -m json.tool "$TMP/w.perfetto.json"
check "export: importer rules" "$PY" -S "$(dirname "$0")/check_chrome_json.py" "$TMP/w.perfetto.json"
json_check "export: thread tracks with slices" "$TMP/w.perfetto.json" \
	"len([e for e in d['traceEvents'] if e['ph'] == 'X' and e.get('cat') == 'state']) > 0"
json_check "export: syscalls without the end marker's block slice" "$TMP/w.perfetto.json" \
	"any(e['name'] == 'syscall' for e in d['traceEvents'] if e.get('cat') == 'state') and not any(e['name'] == 'blocked: syscall' for e in d['traceEvents'] if e.get('cat') == 'state')"
if [ -n "${GORT_GO_VALIDATE:-}" ] && [ -x "$GORT_GO_VALIDATE" ]; then
	if "$GORT_GO_VALIDATE" <"$OUT" >"$TMP/err" 2>&1; then ok "Go accepts it too"; else fail "Go rejects the trace gort-trace accepted: $(head -3 "$TMP/err")"; fi
fi
if [ -n "${GORT_GO_TRACE_TOOL:-}" ] && [ -x "$GORT_GO_TRACE_TOOL" ]; then
	"$GORT_GO_TRACE_TOOL" -d=1 "$OUT" >"$TMP/go.dump" 2>&1
	"$GT" dump --go "$OUT" >"$TMP/gt.dump"
	if cmp -s "$TMP/go.dump" "$TMP/gt.dump"; then ok "dump --go = go tool trace -d=1 on a gort trace"
	else fail "dump --go differs from Go: $(diff "$TMP/go.dump" "$TMP/gt.dump" | head -3)"; fi
fi
finish
