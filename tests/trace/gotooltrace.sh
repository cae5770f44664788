#!/bin/sh
# tests/trace/gotooltrace.sh EXAMPLE: trace examples/trace_workers with
# GORT_TRACE, open the result in Go 1.22's `go tool trace` on 127.0.0.1 (a
# free port), fetch its pages with curl and check that they list the threads
# as goroutines, the user tasks, regions and logs; stop the tool by its PID.
# Exit 77 (skip) without Go or curl.
set -u
EXAMPLE=$1
TOOL=${GORT_GO_TRACE_TOOL:-}
[ -n "$TOOL" ] && [ -x "$TOOL" ] || { echo "go tool trace not available"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "curl not available"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "python3 not available"; exit 77; }
DIR=${GORT_TEST_TMPDIR:-/tmp}
TRACE=$DIR/workers.trace
LOG=$DIR/tool.log
rm -f "$TRACE"
GORT_TRACE=$TRACE "$EXAMPLE" >/dev/null || { echo "example failed"; exit 1; }
[ -s "$TRACE" ] || { echo "no trace written"; exit 1; }

# Start the tool on a free port; retry (new port) if it dies before serving,
# e.g. when another process grabbed the port first.
start_tool() {
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
	BROWSER=true "$TOOL" -http=127.0.0.1:$PORT "$TRACE" >"$LOG" 2>&1 &
	PID=$!
	i=0
	while [ $i -lt 600 ]; do
		if grep -q "Trace viewer is listening on" "$LOG"; then
			# serving only once it answers
			curl -s -o /dev/null "http://127.0.0.1:$PORT/" && return 0
		fi
		kill -0 $PID 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
started=0
for attempt in 1 2 3; do
	if start_tool; then
		started=1
		break
	fi
	echo "attempt $attempt: go tool trace exited or did not serve:"
	cat "$LOG"
	kill $PID 2>/dev/null
	wait $PID 2>/dev/null
done
fail=0
check() {   # check PAGE NEEDLE...: the page answers 200 and contains each needle
	page=$1
	shift
	out=$DIR/page.html
	code=$(curl -s -o "$out" -w '%{http_code}' "http://127.0.0.1:$PORT$page")
	if [ "$code" != 200 ]; then
		echo "FAIL GET $page -> $code"
		fail=1
		return
	fi
	for n in "$@"; do
		if ! grep -q -- "$n" "$out"; then
			echo "FAIL GET $page: no '$n'"
			fail=1
		fi
	done
	echo "ok   GET $page ($*)"
}
if [ $started = 0 ]; then
	echo "go tool trace did not start"
	exit 1
fi
# Goroutines grouped by their entry function (the workers and main).
check /goroutines "worker_main" "main"
# The thread names label the goroutines in the trace viewer.
check "/jsontrace?view=thread" "(worker-0)" "(worker-3)" "(producer)"
check /usertasks "job" "batch"
check /userregions "parse" "compute" "inner-loop" "produce"
# Logs are listed on a task type's page.
check "/usertask?type=job" "took job" "bytes written"
check "/usertask?type=batch" "pausing"
kill $PID
wait $PID 2>/dev/null
# Profiles: blocking on the queue (sync) and the write(2) calls (syscall)
# are attributed to the workers' stacks.
if [ -n "${GORT_GO:-}" ] && [ -x "$GORT_GO" ]; then
	for prof in sync syscall; do
		"$TOOL" -pprof=$prof "$TRACE" > "$DIR/$prof.pb" 2>"$DIR/$prof.err" &&
			"$GORT_GO" tool pprof -top "$DIR/$prof.pb" > "$DIR/$prof.txt" 2>&1
		if grep -q worker_main "$DIR/$prof.txt"; then
			echo "ok   -pprof=$prof lists worker_main"
		else
			echo "FAIL -pprof=$prof:"
			cat "$DIR/$prof.err" "$DIR/$prof.txt"
			fail=1
		fi
	done
fi
exit $fail
