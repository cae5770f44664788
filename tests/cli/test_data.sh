#!/bin/sh
# tests/cli/test_data.sh: every gort-trace subcommand on the committed traces
# in tests/data/cli (origins in tests/data/cli/README.md), with the numbers
# those traces are known to hold. Needs python3 (JSON checks); no Go.
GT=$1
. "$(dirname "$0")/lib.sh"
A=$DATA/annotated.trace

# ---- validate
check "validate annotated" "$GT" validate "$A"
check_grep "validate summary" "annotated.trace: valid Go 1.22 trace: 527 events, 1 generations, 6806 bytes" "$TMP/out"
for t in cpuhot go122-annotations go122-task-across-generations snapshot-gen2; do
	check "validate $t" "$GT" validate -q "$DATA/$t.trace"
	check_eq "validate -q prints nothing ($t)" "$(wc -c <"$TMP/out")" 0
done
check "validate --reader-only" "$GT" validate --reader-only "$A"
check_grep "validate --reader-only summary" "527 events" "$TMP/out"
check "validate from stdin" sh -c "'$GT' validate - < '$A'"
check_grep "validate stdin summary" "527 events" "$TMP/out"

# ---- dump: one line per event; --go = Go's multi-line text
"$GT" dump "$A" >"$TMP/dump.txt"
check_eq "dump exit status" $? 0
check_eq "dump: one line per event" "$(wc -l <"$TMP/dump.txt")" 527
check_eq "dump first line" "$(head -1 "$TMP/dump.txt")" \
	"M=16668 P=-1 G=-1 StateTransition Time=1085334238592 Resource=Proc(0) Reason=\"\" ProcID=0 Undetermined->Running"
check_eq "dump: 72 region begin/end events" "$(grep -c ' Region\(Begin\|End\) ' "$TMP/dump.txt")" 72
check_eq "dump: 18 logs" "$(grep -c ' Log Time=' "$TMP/dump.txt")" 18
check_eq "dump: last event is Sync" "$(tail -1 "$TMP/dump.txt" | grep -c ' Sync ')" 1
"$GT" dump --go "$A" >"$TMP/dumpgo.txt"
check_eq "dump --go: Go's line count" "$(wc -l <"$TMP/dumpgo.txt")" 4683
check "dump -o file" "$GT" dump -o "$TMP/dump2.txt" "$A"
if cmp -s "$TMP/dump.txt" "$TMP/dump2.txt"; then ok "dump -o equals stdout"; else fail "dump -o differs"; fi
"$GT" dump --go "$DATA/go122-annotations.trace" 2>"$TMP/err" | head -1 >/dev/null
check_eq "dump into a closed pipe ends quietly" "$(wc -c <"$TMP/err")" 0

# ---- stats (text)
check "stats annotated" "$GT" stats "$A"
cp "$TMP/out" "$TMP/stats.txt"
check_grep "stats duration" "duration:     37.85ms (37849665 ns)" "$TMP/stats.txt"
check_grep "stats time span" "time span:    1085334238592 .. 1085372088257 ns" "$TMP/stats.txt"
check_grep "stats generations" "generations:  1 (1 .. 1)" "$TMP/stats.txt"
check_grep "stats goroutines by start function" "       6  main.worker" "$TMP/stats.txt"
check_grep "stats region inner" "  inner                              18      0" "$TMP/stats.txt"
check_grep "stats task job" "  job                                 6      0" "$TMP/stats.txt"
check_grep "stats logs progress" "      12  progress" "$TMP/stats.txt"
check_grep "stats mutex site" "sync.(*Mutex).Lock (mutex.go:90) <- main.worker.func1 (annotated.go:38)" "$TMP/stats.txt"
check_grep "stats bytes by type" "  UserRegionBegin                  36          180" "$TMP/stats.txt"
check "stats --top 2" "$GT" stats --top 2 "$A"
check_eq "stats --top 2 shows 2 goroutines" "$(grep -c '^  G[0-9]' "$TMP/out")" 2

# ---- stats --json
"$GT" stats --json "$A" >"$TMP/stats.json"
check_eq "stats --json exit" $? 0
json_check "json: regions" "$TMP/stats.json" \
	"{r['type']: (r['count'], r['incomplete']) for r in d['regions']} == {'inner': (18, 0), 'step': (18, 0)}"
json_check "json: tasks" "$TMP/stats.json" "[(t['type'], t['count']) for t in d['tasks']] == [('job', 6)]"
json_check "json: logs" "$TMP/stats.json" "d['logs_by_category'] == {'progress': 12, 'done': 6} and d['logs'] == 18"
json_check "json: goroutines" "$TMP/stats.json" "d['goroutines_by_start_function']['main.worker'] == 6 and d['goroutines'] == len(d['goroutine_list'])"
json_check "json: percentiles ordered" "$TMP/stats.json" \
	"all(r['p50_ns'] <= r['p90_ns'] <= r['p99_ns'] <= r['max_ns'] for r in d['regions'] + d['tasks'])"
json_check "json: bytes by type sum to the file size" "$TMP/stats.json" \
	"sum(v['bytes'] for v in d['events_by_type'].values()) == d['bytes'] == 6806"
json_check "json: events by type sum to the events" "$TMP/stats.json" \
	"sum(v['events'] for k, v in d['events_by_type'].items() if k not in ('EventBatch','Stacks','Stack','Strings','String','Frequency','(file header)')) == d['events']"
json_check "json: per-goroutine times add up to its life" "$TMP/stats.json" \
	"all(g['total_ns'] == g['running_ns'] + g['runnable_ns'] + g['blocked_ns'] + g['syscall_ns'] for g in d['goroutine_list'])"
json_check "json: blocked by reason adds up" "$TMP/stats.json" \
	"all(sum(g['blocked_by_reason_ns'].values()) == g['blocked_ns'] for g in d['goroutine_list'])"
json_check "json: running and syscall time per OS thread = per goroutine" "$TMP/stats.json" \
	"all(sum(g[k] for g in d['goroutine_list']) == sum(t[k] for t in d['thread_list']) for k in ('running_ns', 'syscall_ns'))"
json_check "json: no goroutine busier than the trace" "$TMP/stats.json" \
	"all(g['total_ns'] <= d['duration_ns'] for g in d['goroutine_list'])"
"$GT" stats --json "$DATA/go122-task-across-generations.trace" >"$TMP/tag.json"
json_check "json: task across generations" "$TMP/tag.json" \
	"d['generations'] == 2 and [(t['type'], t['count'], t['incomplete']) for t in d['tasks']] == [('my task', 1, 0)]"
"$GT" stats "$DATA/snapshot-gen2.trace" >"$TMP/snap.txt"
check_grep "snapshot: generation range in the time span" "generations:  1 (2 .. 2)" "$TMP/snap.txt"
check_grep "snapshot: time span" "time span:    384 .. 513 ns" "$TMP/snap.txt"
"$GT" stats --json "$DATA/snapshot-gen2.trace" >"$TMP/snap.json"
json_check "snapshot: json span" "$TMP/snap.json" \
	"(d['first_generation'], d['last_generation'], d['start_ns'], d['end_ns']) == (2, 2, 384, 513)"
json_check "snapshot: task begun before the snapshot is open" "$TMP/snap.json" \
	"[(t['count'], t['incomplete']) for t in d['tasks']] == [(1, 1)]"
"$GT" stats --json "$DATA/cpuhot.trace" >"$TMP/cpu.json"
json_check "json: cpu samples" "$TMP/cpu.json" "d['cpu_samples'] == 12"

# ---- export
check "export perfetto" "$GT" export --format=perfetto "$A" -o "$TMP/a.json"
check "export output is JSON (python3 -m json.tool)" "$PY" -m json.tool "$TMP/a.json"
for t in annotated cpuhot go122-annotations go122-task-across-generations; do
	"$GT" export --format=perfetto "$DATA/$t.trace" -o "$TMP/$t.json"
	check "export $t: importer rules (nesting, pairs, flows, names)" "$PY" -S "$(dirname "$0")/check_chrome_json.py" "$TMP/$t.json"
done
json_check "export: state slices on goroutine tracks" "$TMP/a.json" \
	"len([e for e in d['traceEvents'] if e['ph'] == 'X' and e.get('cat') == 'state']) > 50"
json_check "export: 36 region slices" "$TMP/a.json" \
	"len([e for e in d['traceEvents'] if e['ph'] == 'X' and e.get('cat') == 'region']) == 36"
json_check "export: 6 tasks begin and end" "$TMP/a.json" \
	"[len([e for e in d['traceEvents'] if e['ph'] == p and e.get('cat') == 'task']) for p in 'be'] == [6, 6]"
json_check "export: task flows" "$TMP/a.json" \
	"len([e for e in d['traceEvents'] if e['ph'] in 'stf' and e.get('cat') == 'task-flow']) == 6 + 36 + 6"
json_check "export: 18 log instants" "$TMP/a.json" \
	"len([e for e in d['traceEvents'] if e['ph'] == 'i' and e.get('cat') == 'log']) == 18"
json_check "export: heap counter" "$TMP/a.json" \
	"len([e for e in d['traceEvents'] if e['ph'] == 'C' and e['name'] == 'HeapAlloc']) == 13"
json_check "export: named thread tracks" "$TMP/a.json" \
	"len([e for e in d['traceEvents'] if e['ph'] == 'M' and e['name'] == 'thread_name' and 'main.worker' in e['args']['name']]) == 12"
json_check "export: slices do not overlap on a track" "$TMP/a.json" "(lambda xs: all(
	all(a[1] + a[2] <= b[1] + 1e-9 or (a[1] <= b[1] and b[1] + b[2] <= a[1] + a[2] + 1e-9)
	    for a, b in zip(v, v[1:])) for v in [sorted([(e['tid'], e['ts'], e['dur']) for e in xs if e['tid'] == t], key=lambda x: (x[1], -x[2])) for t in set(e['tid'] for e in xs)]))(
	[e for e in d['traceEvents'] if e['ph'] == 'X'])"
check "export window" "$GT" export --format=perfetto --from 10ms --to 12ms "$A" -o "$TMP/w.json"
json_check "export window: everything inside [10ms, 12ms)" "$TMP/w.json" \
	"all(10000 <= e['ts'] and e['ts'] + e.get('dur', 0) <= 12000 for e in d['traceEvents'] if e['ph'] in 'XiC')"
check "export window: importer rules" "$PY" -S "$(dirname "$0")/check_chrome_json.py" "$TMP/w.json"
json_check "export window: fewer slices" "$TMP/w.json" \
	"0 < len([e for e in d['traceEvents'] if e['ph'] == 'X']) < 250"
"$GT" export --format=perfetto "$DATA/cpuhot.trace" -o "$TMP/c.json"
json_check "export: cpu samples as instants naming the hot function" "$TMP/c.json" \
	"len([e for e in d['traceEvents'] if e['ph'] == 'i' and e.get('cat') == 'cpu']) == 12 and any('main.hotLoop' in e['args'].get('stack', '') for e in d['traceEvents'] if e.get('cat') == 'cpu')"
if have_pprof; then   # zlib present
	check "export to .json.gz" "$GT" export --format=perfetto "$A" -o "$TMP/a.json.gz"
	check "export .json.gz: gzip of the same JSON" "$PY" -S -c "import gzip,sys; sys.exit(0 if gzip.open(sys.argv[1]).read() == open(sys.argv[2], 'rb').read() else 1)" "$TMP/a.json.gz" "$TMP/a.json"
	check "export .json.gz: importer rules" "$PY" -S "$(dirname "$0")/check_chrome_json.py" "$TMP/a.json.gz"
fi
check "export to stdout" sh -c "'$GT' export --format=perfetto '$A' -o - | '$PY' -m json.tool >/dev/null"

# ---- pprof (structure here; cli_go opens them in go tool pprof)
if have_pprof; then
for t in block syscall region; do
	check "pprof $t" "$GT" pprof --type=$t "$A" -o "$TMP/$t.pb.gz"
	check "pprof $t is gzip" "$PY" -S -c "import gzip,sys; b=gzip.open(sys.argv[1]).read(); sys.exit(0 if len(b) > 100 and b'main.worker' in b else 1)" "$TMP/$t.pb.gz"
done
check "pprof cpu" "$GT" pprof --type=cpu "$DATA/cpuhot.trace" -o "$TMP/cpu.pb.gz"
check "pprof cpu names the hot function" "$PY" -S -c "import gzip,sys; sys.exit(0 if b'main.hotLoop' in gzip.open(sys.argv[1]).read() else 1)" "$TMP/cpu.pb.gz"
"$GT" pprof --type=cpu "$A" -o "$TMP/empty.pb.gz" 2>"$TMP/err"
check_eq "pprof cpu without samples: exit 0" $? 0
check_grep "pprof cpu without samples: says so" "no cpu samples" "$TMP/err"
else
	echo "note: gort-trace built without zlib; pprof checks skipped"
fi

# ---- progress bar: never on a pipe; drawn when forced (as on a terminal)
"$GT" stats "$A" 2>"$TMP/err" >/dev/null
check_eq "no progress output when stderr is not a terminal" "$(wc -c <"$TMP/err")" 0
GORT_NO_PROGRESS= GORT_FORCE_PROGRESS=always "$GT" stats "$A" 2>"$TMP/err" >/dev/null
check_grep "progress bar when forced" "stats [" "$TMP/err"

# on a real terminal (a pty from script(1)) with a slow input, the bar shows
# up by itself and is erased before the result line
if command -v script >/dev/null 2>&1; then
	GORT_NO_PROGRESS= script -qec "sh -c 'sleep 0.5; cat \"$A\"' | \"$GT\" validate -" /dev/null >"$TMP/tty.txt" 2>&1
	check_grep "progress bar on a terminal" "validate 0.0 MB" "$TMP/tty.txt"
	check_grep "bar erased before the result" "$(printf '\033[K')-: valid Go 1.22 trace" "$TMP/tty.txt"
else
	echo "note: script(1) not found; terminal progress check skipped"
fi

# ---- --help for every subcommand
for c in validate dump stats export pprof record; do
	check "$c --help" "$GT" $c --help
	check_grep "$c --help usage" "usage: gort-trace $c" "$TMP/out"
done
check "gort-trace --help" "$GT" --help
finish
