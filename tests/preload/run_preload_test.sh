#!/bin/sh
# tests/preload/run_preload_test.sh CASE PRELOAD_LIB PROG_DIR
#
# Runs programs that know nothing of gort under libgort-preload.so and checks
# the traces with Go 1.22's own tools (paths from the test environment:
# GORT_GO_VALIDATE, GORT_GO_TRACE_TOOL, GORT_GO). Exit 0 pass, 1 fail, 77 skip.
# Cases: off errno contend echo cpu ctor std signal churn sigprof linked
# (see each function).
set -u
case=$1 lib=$2 bin=$3
tmp=${GORT_TEST_TMPDIR:-/tmp}/$case
rm -rf "$tmp" && mkdir -p "$tmp" || exit 1

fail() { echo "FAIL [$case]: $*"; exit 1; }
skip() { echo "SKIP [$case]: $*"; exit 77; }
note() { echo "[$case] $*"; }

[ -r "$lib" ] || fail "no preload library at $lib"
have_go() { [ -n "${GORT_GO_VALIDATE:-}" ] && [ -x "$GORT_GO_VALIDATE" ]; }
# Tracing needs the tracer in the library and Go's tools to check the result.
need_go() {
	nm -D --defined-only "$lib" | grep -q ' gort_trace_start$' ||
		skip "the tracer (src/trace) is not in this build yet"
	have_go || skip "Go 1.22's validator is not available"
}

# traced OUT TRACE CMD...: run CMD with tracing on, stdout to OUT.
traced() {
	out=$1 tr=$2; shift 2
	GORT_TRACE=$tr LD_PRELOAD=$lib "$@" > "$out" || fail "traced run of $* exited $?"
}
validate() {
	[ -s "$1" ] || fail "no trace written at $1"
	"$GORT_GO_VALIDATE" < "$1" > "$tmp/validate.log" 2>&1 ||
		fail "Go's validator rejects $1: $(head -c 2000 "$tmp/validate.log")"
}
# pprof KIND TRACE -> $tmp/KIND.txt: every sample's stack, as text.
pprof() {
	"$GORT_GO_TRACE_TOOL" -pprof="$1" "$2" > "$tmp/$1.pb" 2> "$tmp/$1.err" ||
		fail "go tool trace -pprof=$1 failed: $(head -c 2000 "$tmp/$1.err")"
	GOTOOLCHAIN=local GOCACHE=$tmp/gocache HOME=$tmp GOFLAGS= \
	"$GORT_GO" tool pprof -traces -symbolize=none "$tmp/$1.pb" > "$tmp/$1.txt" 2>&1 ||
		fail "go tool pprof failed: $(head -c 2000 "$tmp/$1.txt")"
}
# expect_in FILE WORD WHAT: FILE must mention WORD.
expect_in() {
	grep -q "$2" "$1" || fail "$3: '$2' not in $1: $(head -c 3000 "$1")"
}
# same_as_plain NAME [ARGS]: run preload_prog_NAME alone, then traced into
# $tmp/NAME.trace (environment from the caller): same output, valid trace.
same_as_plain() {
	name=$1; shift
	"$bin/preload_prog_$name" "$@" > "$tmp/plain" || fail "plain run failed: $(head -c 2000 "$tmp/plain")"
	traced "$tmp/out" "$tmp/$name.trace" "$bin/preload_prog_$name" "$@"
	cmp -s "$tmp/plain" "$tmp/out" || fail "output differs under tracing: $(head -c 2000 "$tmp/out")"
	validate "$tmp/$name.trace"
}
# dump_events TRACE -> $tmp/events.txt (go tool trace -d=1).
dump_events() {
	"$GORT_GO_TRACE_TOOL" -d=1 "$1" > "$tmp/events.txt" 2>&1 || fail "go tool trace -d=1 failed"
}
# first_frames EVENT: for each EVENT line of $tmp/events.txt, the function of
# the first stack frame after it, one per line (StackSample: the sample's
# leaf; NotExist->Runnable: the root of the new goroutine's start stack).
first_frames() {
	awk -v ev="$1" 'index($0, ev){s=1; next} s && /@/{ print $1; s=0 }' "$tmp/events.txt"
}

case_off() {     # preloaded, GORT_TRACE unset: pure pass-through
	for p in errno contend ctor; do
		"$bin/preload_prog_$p" > "$tmp/plain.$p" || fail "plain $p failed"
		(unset GORT_TRACE; LD_PRELOAD=$lib "$bin/preload_prog_$p") > "$tmp/pre.$p" ||
			fail "preloaded $p failed (tracing off)"
		cmp -s "$tmp/plain.$p" "$tmp/pre.$p" || fail "$p output differs with the preload"
	done
	[ -z "$(ls "$tmp" | grep trace)" ] || fail "a trace was written with GORT_TRACE unset"
}

case_errno() {   # libc semantics and errno kept, tracing off and on
	"$bin/preload_prog_errno" > /dev/null || fail "errno checks without the preload"
	(unset GORT_TRACE; LD_PRELOAD=$lib "$bin/preload_prog_errno") || fail "errno checks, tracing off"
	need_go
	traced "$tmp/out" "$tmp/errno.trace" "$bin/preload_prog_errno"
	expect_in "$tmp/out" "errno ok" "errno checks, tracing on"
	validate "$tmp/errno.trace"
}

case_contend() { # 8 threads on one mutex: the sync profile names the workers
	need_go
	same_as_plain contend 3000
	pprof sync "$tmp/contend.trace"
	expect_in "$tmp/sync.txt" "pthread_mutex_lock" "sync profile"
	expect_in "$tmp/sync.txt" "contend_worker" "sync profile"
	dump_events "$tmp/contend.trace"
	n=$(grep -c 'NotExist->Runnable' "$tmp/events.txt")
	[ "$n" -ge 9 ] || fail "expected 9+ goroutines (main + 8), saw $n"
	expect_in "$tmp/events.txt" 'Reason="sync.Mutex"' "block reasons"
	# go tool trace names a goroutine after the root frame of its creation
	# stack: the thread's start routine.
	w=$(first_frames 'NotExist->Runnable' | grep -cx contend_worker)
	[ "$w" -eq 8 ] || fail "expected 8 goroutines rooted at contend_worker, saw $w"
	# and the main thread after main, which the program does not export
	# (found in its symbol table, not dlsym)
	m=$(first_frames 'NotExist->Runnable' | grep -cx main)
	[ "$m" -eq 1 ] || fail "expected the main goroutine rooted at main, saw $m"
}

case_echo() {    # TCP echo: the syscall profile names the network calls' callers
	need_go
	same_as_plain echo 300
	pprof syscall "$tmp/echo.trace"
	expect_in "$tmp/syscall.txt" "echo_" "syscall profile"
	# go tool trace 1.22 closes a syscall interval only at the G's next
	# transition that has a stack; GoSyscallEnd has none. Threads that only
	# do syscalls (the clients, the connection servers) show up because the
	# tracer writes a stacked zero-length marker after GoSyscallEnd.
	expect_in "$tmp/syscall.txt" "echo_client" "syscall profile (send/recv of the clients)"
	expect_in "$tmp/syscall.txt" "echo_serve_conn" "syscall profile (recv/send of the server)"
	expect_in "$tmp/syscall.txt" "recv.gort" "syscall profile"
	expect_in "$tmp/syscall.txt" "send.gort" "syscall profile"
	"$GORT_GO_TRACE_TOOL" -pprof=net "$tmp/echo.trace" > /dev/null 2>&1 || fail "-pprof=net failed"
	dump_events "$tmp/echo.trace"
	expect_in "$tmp/events.txt" "Running->Syscall" "syscall ranges"
}

case_cpu() {     # CPU samples name the hot function
	need_go
	nm -D --defined-only "$lib" | grep -q ' _gr_cpuprof_start$' ||
		nm "$lib" 2>/dev/null | grep -q '_gr_cpuprof_start' ||
		skip "the CPU profiler (src/stack/cpuprof) is not in this build yet"
	GORT_TRACE_CPU_HZ=250 same_as_plain cpu
	dump_events "$tmp/cpu.trace"
	total=$(grep -c 'StackSample' "$tmp/events.txt")
	[ "$total" -ge 5 ] || fail "only $total CPU samples in the trace"
	hot=$(first_frames StackSample | grep -cx cpu_hot_loop)
	note "$hot of $total CPU samples have cpu_hot_loop as the leaf"
	[ $((hot * 2)) -ge "$total" ] || fail "cpu_hot_loop is the leaf of only $hot of $total samples"
	ms=$(grep 'StackSample' "$tmp/events.txt" | awk '{print $1}' | sort -u | wc -l)
	# Both threads burn the same CPU time; each must be sampled.
	[ "$ms" -ge 2 ] || fail "samples come from $ms thread(s), expected 2 (main + worker)"
}

case_sigprof() { # the program's own SIGPROF use and CPU sampling coexist
	need_go
	GORT_TRACE_CPU_HZ=250 same_as_plain sigprof
	dump_events "$tmp/sigprof.trace"
	# sampling goes on after the program installed its handler: the hot
	# function runs only after that
	hot=$(first_frames StackSample | grep -cx sigprof_burn)
	note "$hot CPU samples in sigprof_burn"
	[ "$hot" -ge 10 ] || fail "only $hot CPU samples in sigprof_burn: sampling stopped when the program took SIGPROF"
}

case_linked() {  # a program linked with libgort, run under the preload library too
	need_go
	same_as_plain linked
	dump_events "$tmp/linked.trace"
	# the program's own annotations and the wrappers' events, in one trace
	regions=$(grep -c 'RegionBegin.*Type="linked-work"' "$tmp/events.txt")
	[ "$regions" -eq 400 ] || fail "$regions of the program's 400 regions in the trace"
	grep -q 'Log.*Category="linked"' "$tmp/events.txt" || fail "the program's log is missing"
	grep -q 'Reason="sync.Mutex".*Running->Waiting' "$tmp/events.txt" || fail "no contended-mutex block from the wrappers"
	# and written once: alone, the linked tracer writes the same program's trace
	GORT_TRACE=$tmp/alone.trace "$bin/preload_prog_linked" > /dev/null || fail "linked-only run failed"
	validate "$tmp/alone.trace"
}

case_ctor() {    # threads + dlsym from a constructor; exit() from a thread
	need_go
	same_as_plain ctor
}

case_signal() {  # handlers calling wrapped functions; cancelled blocked threads
	need_go
	same_as_plain signal
}

case_churn() {   # 1200 short threads, generation switches every 2 ms, CPU samples
	need_go
	GORT_TRACE_PERIOD=2ms GORT_TRACE_CPU_HZ=1000 traced "$tmp/out" "$tmp/churn.trace" \
		"$bin/preload_prog_churn"
	expect_in "$tmp/out" "churn ok" "program output"
	validate "$tmp/churn.trace"
	dump_events "$tmp/churn.trace"
	first_frames 'NotExist->Runnable' | sort | uniq -c > "$tmp/roots.txt"
	w=$(awk '$2=="churn_worker"{print $1}' "$tmp/roots.txt")
	[ "${w:-0}" -eq 1200 ] || fail "expected 1200 goroutines rooted at churn_worker: $(cat "$tmp/roots.txt")"
	# Every other goroutine is main. A goroutine rooted in the tracer's own
	# thread-exit code would be an exited thread that re-entered the trace:
	# the TLS destructor's (contended) pthread_mutex_lock reaching a wrapper
	# after GoDestroy. The trampoline stops tracing when the routine returns.
	other=$(awk '$2!="churn_worker" && $2!="_start" && $2!="main"{n+=$1} END{print n+0}' "$tmp/roots.txt")
	[ "$other" -eq 0 ] || fail "$other goroutine(s) created by exiting threads: $(cat "$tmp/roots.txt")"
}

case_std() {     # standard programs: valid traces, byte-identical output
	# (GNU sort installs its own SIGPROF handler: preload/signal.c must stop
	# CPU sampling first or sort dies of the first sample)
	need_go
	awk 'BEGIN{srand(7); for (i = 0; i < 20000; i++) printf "%08d line %d\n", int(rand()*1e8), i}' > "$tmp/in"
	sort "$tmp/in" > "$tmp/sort.plain"
	traced "$tmp/sort.out" "$tmp/sort.trace" sort "$tmp/in"
	cmp -s "$tmp/sort.plain" "$tmp/sort.out" || fail "sort output differs"
	validate "$tmp/sort.trace"
	gzip -c -n < "$tmp/in" > "$tmp/gz.plain"
	GORT_TRACE=$tmp/gzip.trace LD_PRELOAD=$lib gzip -c -n < "$tmp/in" > "$tmp/gz.out" || fail "gzip failed"
	cmp -s "$tmp/gz.plain" "$tmp/gz.out" || fail "gzip output differs"
	validate "$tmp/gzip.trace"
	# The real interpreter: a "python3" on PATH may be a shell shim that execs.
	python=$(python3 -c 'import sys; print(sys.executable)' 2> /dev/null || true)
	if [ -n "$python" ] && [ -x "$python" ]; then
		py='import threading, hashlib
out = [None] * 4
def work(i):
    h = hashlib.sha256()
    for k in range(20000): h.update(b"%d-%d" % (i, k))
    out[i] = h.hexdigest()
ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print("\n".join(out))'
		"$python" -c "$py" > "$tmp/py.plain" || fail "python3 failed"
		traced "$tmp/py.out" "$tmp/py.trace" "$python" -c "$py"
		cmp -s "$tmp/py.plain" "$tmp/py.out" || fail "python3 output differs"
		validate "$tmp/py.trace"
	else
		note "python3 not installed: skipped that part"
	fi
	# A shell that execs at once (like a pyenv shim): without %p only the
	# shell is traced, and its trace must be complete (preload/exec.c).
	GORT_TRACE=$tmp/exec.trace LD_PRELOAD=$lib sh -c "exec sort '$tmp/in'" > "$tmp/exec.out" ||
		fail "sh -c exec sort failed"
	cmp -s "$tmp/sort.plain" "$tmp/exec.out" || fail "sh -c exec sort: output differs"
	validate "$tmp/exec.trace"
	# sh -c execs children: with %p each process writes its own trace.
	sh -c "sort '$tmp/in' | gzip -c -n | wc -c" > "$tmp/sh.plain"
	GORT_TRACE=$tmp/sh-%p.trace LD_PRELOAD=$lib sh -c "sort '$tmp/in' | gzip -c -n | wc -c" \
		> "$tmp/sh.out" || fail "sh -c failed"
	cmp -s "$tmp/sh.plain" "$tmp/sh.out" || fail "sh -c output differs"
	n=0
	for f in "$tmp"/sh-*.trace; do
		[ -e "$f" ] || continue
		validate "$f"
		n=$((n + 1))
	done
	[ "$n" -ge 1 ] || fail "sh -c with GORT_TRACE=...%p wrote no trace"
	note "sh -c pipeline: $n valid per-process traces"
}

"case_$case"
echo "PASS [$case]"
