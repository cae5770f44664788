#!/bin/sh
# bench/preload/run.sh [--quick] [BUILD_DIR]
#
# Overhead of libgort-preload.so on programs that know nothing of gort:
#   calls    uncontended mutex lock+unlock, 1-byte write/read (ns per call)
#   contend  8 threads on one mutex (tests/preload/prog_contend.c)
#   echo     TCP echo server + 4 clients on 127.0.0.1 (tests/preload/prog_echo.c)
# each run plain, preloaded with GORT_TRACE unset ("off"), traced ("on"), and
# traced without stacks ("on, depth 0"). Every figure is the median of REPS
# runs taken in the same session; ratios compare medians of the same run.
# Events are counted in the traces with Go's own raw reader (gotraceraw).
# Writes bench/results/preload.md. BUILD_DIR: an existing build tree (else
# one is configured in build-bench-preload, RelWithDebInfo).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
quick=0
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
build=${1:-$src/build-bench-preload}
if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
fi
targets="gort_preload bench_preload_calls bench_preload_contend bench_preload_echo"
grep -q '^GORT_GO:FILEPATH=.*go' "$build/CMakeCache.txt" && targets="$targets gort_go_tools"
cmake --build "$build" -j2 -t $targets > /dev/null
lib=$build/preload/libgort-preload.so
raw=$build/gotools/gotraceraw
bin=$build/bench/preload
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ $quick = 1 ]; then reps=5 scale=1 citers=5000 ereqs=1000
else reps=11 scale=3 citers=60000 ereqs=15000; fi   # CPU times have 10 ms resolution

median() { sort -n | awk '{a[NR]=$1} END{ if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2 }'; }
now() { date +%s%N; }
# run MODE CMD... -> prints "wall_s cpu_s" (cpu = user + system of the
# program, which other jobs on the machine disturb far less than wall time);
# the trace (modes on*) is left in $tmp/last.trace.
run() {
	mode=$1; shift
	rm -f "$tmp/last.trace"
	case $mode in
	plain) set -- env -u GORT_TRACE "$@" ;;
	off)   set -- env -u GORT_TRACE LD_PRELOAD="$lib" "$@" ;;
	on)    set -- env GORT_TRACE="$tmp/last.trace" LD_PRELOAD="$lib" "$@" ;;
	on0)   set -- env GORT_TRACE="$tmp/last.trace" GORT_TRACE_STACK_DEPTH=0 LD_PRELOAD="$lib" "$@" ;;
	esac
	/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$@" > /dev/null
	awk '{printf "%.6f %.6f\n", $1, $2 + $3}' "$tmp/time"
}
events() {
	if [ -x "$raw" ] && [ -s "$tmp/last.trace" ]; then
		"$raw" bytes2text < "$tmp/last.trace" | grep -c ' dt=' || true
	else echo 0; fi
}

out=$src/bench/results/preload.md
mkdir -p "$(dirname "$out")"
{
echo "# Preload overhead (bench/preload/run.sh)"
echo
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs (shared with other jobs while measuring)"
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "- load average when starting: $(cut -d' ' -f1-3 /proc/loadavg) (other jobs share the CPUs: absolute figures are noisy, the ratios of medians taken in the same interleaved run are what to compare)"
echo "- command: \`bench/preload/run.sh$( [ $quick = 1 ] && echo ' --quick')\` ($reps repetitions, medians)"
echo "- modes: plain = no preload; off = LD_PRELOAD, GORT_TRACE unset; on = traced (stack depth 32);"
echo "  on, depth 0 = traced with GORT_TRACE_STACK_DEPTH=0"
echo
echo "## Per-call cost on the fast path (ns per call, median)"
echo
echo "| operation | plain | off | on | off - plain |"
echo "|---|---|---|---|---|"
i=0
while [ $i -lt $reps ]; do   # modes interleaved so that load drift hits all alike
	for mode in plain off on; do
		case $mode in
		plain) env -u GORT_TRACE "$bin/bench_preload_calls" $scale ;;
		off)   env -u GORT_TRACE LD_PRELOAD="$lib" "$bin/bench_preload_calls" $scale ;;
		on)    GORT_TRACE="$tmp/calls.trace" LD_PRELOAD="$lib" "$bin/bench_preload_calls" $scale ;;
		esac > "$tmp/calls.$mode.$i"
	done
	i=$((i + 1))
done
for op in mutex_lock_unlock write_devnull read_devzero; do
	p=$(cat "$tmp"/calls.plain.* | awk -v o=$op '$1==o{print $2}' | median)
	f=$(cat "$tmp"/calls.off.* | awk -v o=$op '$1==o{print $2}' | median)
	o=$(cat "$tmp"/calls.on.* | awk -v o=$op '$1==o{print $2}' | median)
	echo "| $op | $p | $f | $o | $(echo "$f $p" | awk '{printf "%+.2f", $1-$2}') |"
done
echo
echo "(an uncontended lock records nothing even when traced: the wrapper's trylock succeeds;"
echo "write/read \"on\" record a syscall range each: GoSyscallBegin with a stack of depth 32,"
echo "GoSyscallEnd, and the tracer's zero-length stacked marker for go tool trace's syscall profile"
echo "(GoBlock with a stack, GoUnblock, GoStart): 5 events and 2 stack captures per call.)"
echo
if command -v valgrind > /dev/null; then
	echo "## Instructions per call, GORT_TRACE unset (valgrind cachegrind: exact, load-independent)"
	echo
	echo "| operation | plain | preloaded, GORT_TRACE unset | added by the wrapper |"
	echo "|---|---|---|---|"
	for op in mutex write read; do
		case $op in mutex) n=10000000;; *) n=1000000;; esac
		for mode in plain off; do
			case $mode in
			plain) set -- env -u GORT_TRACE ;;
			off)   set -- env -u GORT_TRACE LD_PRELOAD="$lib" ;;
			esac
			"$@" valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
				"$bin/bench_preload_calls" 1 $op 2>&1 > /dev/null |
				sed -n 's/.*I *refs: *//p' | tr -d , > "$tmp/ins.$mode"
		done
		p=$(cat "$tmp/ins.plain"); f=$(cat "$tmp/ins.off")
		echo "| $op | $(echo "$p $n" | awk '{printf "%.1f", $1/$2}') | $(echo "$f $n" | awk '{printf "%.1f", $1/$2}') | $(echo "$f $p $n" | awk '{printf "%+.1f", ($1-$2)/$3}') |"
	done
	echo
	echo "(whole-program instruction counts divided by the calls of the one operation run;"
	echo "mutex = a lock+unlock pair, of which only the lock is wrapped.)"
	echo
fi
echo "## Whole programs (median of $reps; wall seconds, and CPU seconds = user + system)"
echo
echo "| program | mode | wall s | CPU s | wall / plain | CPU / plain |"
echo "|---|---|---|---|---|---|"
summary=""
for prog in contend echo; do
	case $prog in
	contend) cmd="$bin/bench_preload_contend $citers"; label="mutex contention, 8 threads x $citers" ;;
	echo)    cmd="$bin/bench_preload_echo $ereqs"; label="TCP echo, 4 clients x $ereqs requests" ;;
	esac
	: > "$tmp/ev"
	for mode in plain off on on0; do : > "$tmp/t.$mode"; done
	i=0
	while [ $i -lt $reps ]; do
		for mode in plain off on on0; do
			run $mode $cmd >> "$tmp/t.$mode"
			if [ $mode = on ]; then events >> "$tmp/ev"; fi
		done
		i=$((i + 1))
	done
	# Fixed cost of a traced run (tracer start, symbolizing the stacks at
	# the end, writing the file): the same program with no work, traced and
	# plain; subtracted before dividing by the events.
	zcmd=$(echo "$cmd" | awk '{$NF=0; print}')
	: > "$tmp/z.plain"; : > "$tmp/z.on"
	i=0
	while [ $i -lt $reps ]; do
		run plain $zcmd >> "$tmp/z.plain"
		run on $zcmd >> "$tmp/z.on"
		i=$((i + 1))
	done
	fixed=$(paste "$tmp/z.on" "$tmp/z.plain" | awk '{print $2 - $4}' | median)
	pw=$(awk '{print $1}' "$tmp/t.plain" | median); pc=$(awk '{print $2}' "$tmp/t.plain" | median)
	for mode in plain off on on0; do
		w=$(awk '{print $1}' "$tmp/t.$mode" | median); c=$(awk '{print $2}' "$tmp/t.$mode" | median)
		case $mode in plain) m="plain";; off) m="preloaded, GORT_TRACE unset";; on) m="traced";; on0) m="traced, depth 0";; esac
		echo "| $label | $m | $w | $c | $(echo "$w $pw" | awk '{printf "%.2f", $1/$2}') | $(echo "$c $pc" | awk '{ if ($2>0) printf "%.2f", $1/$2; else print "-"}') |"
		[ $mode = on ] && ow=$w && oc=$c
	done
	ev=$(median < "$tmp/ev")
	summary="$summary
| $label | $ev | $(echo "$ev $ow" | awk '{printf "%.0f", $1/$2}') | $fixed | $(echo "$oc $pc $fixed $ev" | awk '{ if ($4>0) printf "%.0f", ($1-$2-$3)*1e9/$4; else print "-"}') |"
done
echo
echo "| program | events per traced run | events per wall second (traced) | fixed CPU s per traced run | extra CPU ns per event (after the fixed cost) |"
echo "|---|---|---|---|---|$summary"
echo
echo "Events are the trace's timed events (every line with dt= in gotraceraw's dump:"
echo "GoBlock/GoUnblock/GoStart, GoSyscallBegin/End, thread start/exit, statuses)."
echo
cat <<'NOTE'
Reading the figures: the echo program's cost is per syscall (noisy from run to run on a shared machine): its extra CPU per
event is the tracer's cost (events plus stack captures) seen from a real program. The
contention program's schedule changes under tracing (a traced block takes longer, which
changes how often the lock changes hands and how much glibc spins and futex-wakes), so its
CPU ratio can even fall below 1 and its per-event figure is not a cost; read its events/s.
NOTE
} > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
