#!/bin/sh
# tests/cli/test_go.sh: gort-trace on traces written at test time by real Go
# 1.22 programs (tests/data/go), checked against the programs' own counts
# and against Go's tools:
#  - stats: tasks, regions, logs and goroutines as the program made them, and
#    the same goroutine/region/task/log counts as Go's reader (go tool trace -d=1);
#  - dump --go: byte-identical to `go tool trace -d=1`;
#  - export: valid JSON with the expected tracks;
#  - pprof: `go tool pprof -top` opens every profile and names the functions.
# Skipped (77) without Go 1.22.
GT=$1
. "$(dirname "$0")/lib.sh"
GO=${GORT_GO:-}
TRACETOOL=${GORT_GO_TRACE_TOOL:-}
if [ -z "$GO" ] || [ ! -x "$GO" ]; then echo "skip: Go 1.22 not found"; exit 77; fi
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOCACHE="$GORT_BINARY_DIR/gocache" GOPATH="$TMP/gopath" HOME="${HOME:-$TMP}"
[ -n "$TRACETOOL" ] && [ -x "$TRACETOOL" ] || TRACETOOL=

build() { # build NAME: compile tests/data/go/NAME.go into $TMP/NAME
	( cd "$TMP" && "$GO" build -o "$TMP/$1" "$GODATA/$1.go" ) >"$TMP/build.log" 2>&1 ||
		{ fail "go build $1: $(tail -5 "$TMP/build.log")"; finish; }
}

# ---- annotated.go: known numbers of everything
build annotated
"$TMP/annotated" "$TMP/a.trace" >"$TMP/truth.txt" || { fail "annotated.go failed"; finish; }
get() { sed -n "s/^$1=//p" "$TMP/truth.txt"; }
check "validate Go trace" "$GT" validate "$TMP/a.trace"
"$GT" stats --json "$TMP/a.trace" >"$TMP/a.json" || fail "stats --json"
json_check "tasks = program's" "$TMP/a.json" "[t['count'] for t in d['tasks'] if t['type'] == 'job'] == [$(get tasks)]"
json_check "regions step = program's" "$TMP/a.json" "[r['count'] for r in d['regions'] if r['type'] == 'step'] == [$(get regions_step)]"
json_check "regions inner = program's" "$TMP/a.json" "[r['count'] for r in d['regions'] if r['type'] == 'inner'] == [$(get regions_inner)]"
json_check "logs = program's" "$TMP/a.json" "d['logs_by_category'] == {'progress': $(get logs_progress), 'done': $(get logs_done)}"
json_check "workers = program's" "$TMP/a.json" "d['goroutines_by_start_function'].get('main.worker') == $(get workers)"
json_check "nothing incomplete" "$TMP/a.json" "all(r['incomplete'] == 0 for r in d['regions'] + d['tasks'])"

if [ -n "$TRACETOOL" ]; then
	"$TRACETOOL" -d=1 "$TMP/a.trace" >"$TMP/go.dump" 2>&1 || fail "go tool trace -d=1"
	"$GT" dump --go "$TMP/a.trace" >"$TMP/gt.dump"
	if cmp -s "$TMP/go.dump" "$TMP/gt.dump"; then ok "dump --go identical to go tool trace -d=1 ($(wc -l <"$TMP/gt.dump") lines)"
	else fail "dump --go differs from Go: $(diff "$TMP/go.dump" "$TMP/gt.dump" | head -5)"; fi
	# Go's reader's view, counted from its own dump
	gor=$(grep -o 'Resource=Goroutine([0-9]*)' "$TMP/go.dump" | sort -u | wc -l)
	regs=$(grep -c '^M=.* RegionBegin ' "$TMP/go.dump")
	tasks=$(grep -c '^M=.* TaskBegin ' "$TMP/go.dump")
	logs=$(grep -c '^M=.* Log ' "$TMP/go.dump")
	evs=$(grep -c '^M=' "$TMP/go.dump")
	json_check "goroutines = Go's ($gor)" "$TMP/a.json" "d['goroutines'] == $gor"
	json_check "regions = Go's ($regs)" "$TMP/a.json" "sum(r['count'] for r in d['regions']) == $regs"
	json_check "tasks = Go's ($tasks)" "$TMP/a.json" "sum(t['count'] for t in d['tasks']) == $tasks"
	json_check "logs = Go's ($logs)" "$TMP/a.json" "d['logs'] == $logs"
	json_check "events = Go's ($evs)" "$TMP/a.json" "d['events'] == $evs"
	for f in "$DATA"/*.trace; do
		"$TRACETOOL" -d=1 "$f" >"$TMP/go1.dump" 2>&1
		"$GT" dump --go "$f" >"$TMP/gt1.dump"
		if cmp -s "$TMP/go1.dump" "$TMP/gt1.dump"; then ok "dump --go = go tool trace -d=1: $(basename "$f")"
		else fail "dump --go differs from Go on $(basename "$f"): $(diff "$TMP/go1.dump" "$TMP/gt1.dump" | head -3)"; fi
	done
else
	echo "note: go tool trace not found; Go-reader comparisons skipped"
fi

check "export" "$GT" export --format=perfetto "$TMP/a.trace" -o "$TMP/a.perfetto.json"
check "export is JSON" "$PY" -m json.tool "$TMP/a.perfetto.json"
check "export: importer rules" "$PY" -S "$(dirname "$0")/check_chrome_json.py" "$TMP/a.perfetto.json"
json_check "export: one region slice per region" "$TMP/a.perfetto.json" \
	"len([e for e in d['traceEvents'] if e['ph'] == 'X' and e.get('cat') == 'region']) == $(get regions_step) + $(get regions_inner)"
json_check "export: worker tracks" "$TMP/a.perfetto.json" \
	"len([e for e in d['traceEvents'] if e['ph'] == 'M' and e['name'] == 'thread_name' and e['args']['name'].endswith('main.worker')]) == $(get workers)"

pprof_top() { # pprof_top FILE: go tool pprof -top (all nodes)
	"$GO" tool pprof -top -nodefraction=0 -edgefraction=0 "$1" >"$TMP/top.txt" 2>&1
}
PPROF=1
have_pprof || { PPROF=0; echo "note: gort-trace built without zlib; pprof checks skipped"; }
[ $PPROF = 1 ] && for t in block syscall region; do
	check "pprof --type=$t" "$GT" pprof --type=$t "$TMP/a.trace" -o "$TMP/$t.pb.gz"
	if pprof_top "$TMP/$t.pb.gz"; then ok "go tool pprof opens the $t profile"; else fail "go tool pprof $t: $(head -5 "$TMP/top.txt")"; fi
	check_grep "$t profile names main.worker" "main.worker" "$TMP/top.txt"
	case $t in
	block) check_grep "block profile names the mutex" "sync.(*Mutex).Lock" "$TMP/top.txt" ;;
	syscall) check_grep "syscall profile names the fsync" "syscall.Fsync" "$TMP/top.txt" ;;
	region) check_grep "region profile: Type: time" "Type: time" "$TMP/top.txt" ;;
	esac
done
if [ $PPROF = 1 ]; then
check "pprof --type=block --reason=sync" "$GT" pprof --type=block --reason=sync "$TMP/a.trace" -o "$TMP/sync.pb.gz"
if pprof_top "$TMP/sync.pb.gz"; then ok "go tool pprof opens the sync profile"; else fail "go tool pprof sync: $(head -5 "$TMP/top.txt")"; fi
check_grep "sync profile: the mutex" "sync.(*Mutex).Lock" "$TMP/top.txt"
if grep -q "time.Sleep\|chanrecv" "$TMP/top.txt"; then fail "sync profile holds other reasons"; else ok "sync profile holds only sync reasons"; fi
# Go's own sync profile of the same trace: same functions, same delays
if [ -n "$TRACETOOL" ]; then
	pprof_top "$TMP/sync.pb.gz"; cp "$TMP/top.txt" "$TMP/ours.txt"
	if "$TRACETOOL" -pprof=sync "$TMP/a.trace" >"$TMP/gosync.pb" 2>"$TMP/err" && pprof_top "$TMP/gosync.pb"; then
		for fn in 'sync.(*Mutex).Lock' 'sync.(*WaitGroup).Wait'; do
			want=$(grep -F " $fn" "$TMP/top.txt" | awk '{print $1}' | head -1)
			got=$(grep -F " $fn" "$TMP/ours.txt" | awk '{print $1}' | head -1)
			if [ -n "$want" ] && [ "$want" = "$got" ]; then ok "delay in $fn = Go's -pprof=sync ($got)"
			else fail "delay in $fn: ours '$got', Go's '$want'"; fi
		done
	else
		fail "go tool trace -pprof=sync: $(head -3 "$TMP/err")"
	fi
fi
fi

# ---- cpuhot.go: CPU samples
build cpuhot
"$TMP/cpuhot" "$TMP/c.trace" || { fail "cpuhot.go failed"; finish; }
if [ $PPROF = 1 ]; then
	check "pprof --type=cpu" "$GT" pprof --type=cpu "$TMP/c.trace" -o "$TMP/cpu.pb.gz"
	if pprof_top "$TMP/cpu.pb.gz"; then ok "go tool pprof opens the cpu profile"; else fail "go tool pprof cpu: $(head -5 "$TMP/top.txt")"; fi
	check_grep "cpu profile names main.hotLoop" "main.hotLoop" "$TMP/top.txt"
fi
"$GT" stats --json "$TMP/c.trace" >"$TMP/c.json"
json_check "cpu samples present" "$TMP/c.json" "d['cpu_samples'] > 0"
finish
