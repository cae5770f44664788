#!/bin/sh
# bench/trace/run.sh [--quick] [--before OLD_BENCH_TRACE] [BUILD_DIR]: cost
# (ns) and size (bytes) per trace event for a region begin/end pair, a log
# and a block/unblock pair, on 1 and 2 threads, tracing off / on / on with
# stacks; medians over repetitions. Writes bench/results/trace.md.
# --before: also time another bench_trace binary (e.g. built from main)
# against this one, round by round in the same run (1 thread, tracing on, no
# stacks, and the floor), and count its instructions: a before/after table.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
QUICK=0
BUILD=""
BEFORE=""
next_before=0
for a in "$@"; do
	if [ $next_before = 1 ]; then BEFORE=$a; next_before=0; continue; fi
	case $a in
	--quick) QUICK=1 ;;
	--before) next_before=1 ;;
	*) BUILD=$a ;;
	esac
done
if [ -z "$BUILD" ]; then
	BUILD=$SRC/build-bench
	cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGORT_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD" -j2 --target bench_trace >/dev/null
BIN=$BUILD/bench/trace/bench_trace
if [ $QUICK = 1 ]; then ITERS=200000; REPS=3; else ITERS=2000000; REPS=7; fi
OUT=$SRC/bench/results/trace.md
TMP=$(mktemp)
"$BIN" $ITERS $REPS > "$TMP"
MODEL=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
{
	echo "# Trace event cost"
	echo
	echo "- Machine: $MODEL, $(nproc) CPUs, $(uname -sr)"
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- Command: \`bench/trace/run.sh $*\` (bench_trace $ITERS iterations, $REPS repetitions, medians; build type $(sed -n "s/^CMAKE_BUILD_TYPE:STRING=//p" "$BUILD/CMakeCache.txt"))"
	echo "- Time = CPU time of each annotating thread (CLOCK_THREAD_CPUTIME_ID), so preemption by other"
	echo "  processes on this shared machine is not counted; 2-thread rows are per thread."
	echo "- Tracing on = an in-process sink that counts bytes (no I/O); stacks = GORT_TRACE_STACK_DEPTH=32"
	echo "  (iterations / 4). Bytes per event include every table, header and status byte of the trace."
	if [ -d "$SRC/src/stack" ]; then CAP="the stack module (src/stack)"; else CAP="the tracer's fallback frame-pointer walk (src/stack not in this tree)"; fi
	echo "- Stacks captured by $CAP."
	echo "- Events per operation: region pair 2, log 1, block/unblock 3 (GoBlock, GoUnblock, GoStart)."
	echo
	echo "| operation | threads | tracing | ns/event | bytes/event |"
	echo "|---|---|---|---|---|"
	grep -v '^#' "$TMP" | sed 's/^/| /; s/$/ |/'
	echo
	echo "Ratios from this run (tracing on, no stacks; floor = the lower floor row):"
	echo
	grep -v '^#' "$TMP" | awk -F' [|] ' '
		/^floor/ { if (f == 0 || $4 + 0 < f) f = $4 + 0 }
		$3 == "on" { on[$1 "|" $2] = $4; ops[$1] = 1 }
		END {
			for (op in ops) {
				one = on[op "|1"]; two = on[op "|2"]
				printf "- %s: %.1fx the floor (%.2f ns); 2 threads / 1 thread = %.2f\n", op, one / f, f, two / one
			}
		}' | sort
	if [ -n "$BEFORE" ]; then
		ROUNDS=$((2 * REPS + 1))
		BA=$(mktemp)
		r=0
		one() { "$1" $ITERS 1 $2 | awk -F' [|] ' '{ print $4 }'; }
		while [ $r -lt $ROUNDS ]; do
			# each operation run between two floor runs of the same binary
			# (its ratio to their mean follows the machine's phases); which
			# binary goes first alternates by round
			if [ $((r % 2)) -eq 0 ]; then order="before after"; else order="after before"; fi
			for which in $order; do
				if [ $which = before ]; then b=$BEFORE; else b=$BIN; fi
				f=$(one "$b" floor)
				echo "floor $which $f $r $f $f" >> "$BA"
				for op in region log block; do
					x=$(one "$b" $op)
					g=$(one "$b" floor)
					echo "$op $which $x $r $f $g" >> "$BA"
					echo "floor $which $g $r $g $g" >> "$BA"
					f=$g
				done
			done
			r=$((r + 1))
		done
		IC_BEFORE=$("$HERE/icount.sh" "$BEFORE")
		IC_AFTER=$("$HERE/icount.sh" "$BIN")
		echo
		echo "Before/after in the same run: \`$BEFORE\` (before) and this build (after), run"
		echo "alternately, $ROUNDS rounds of $ITERS iterations (after a warm-up run), 1 thread, tracing"
		echo "on without stacks; medians (ns/event), ratio to the floor (the median of both binaries'"
		echo "floor runs: the same loop), ratio of the minimum to the floor's minimum, instructions/event"
		echo "(callgrind)"
		echo
		echo "(min = the fastest round: interference from other processes only adds time; per round = the"
		echo "median over rounds of each run's time over the mean of the floor runs just before and after"
		echo "it, by the same binary: it follows the machine's slow and quiet phases)."
		echo
		echo "| operation | before ns | after ns | before / floor | after / floor | min before / floor | min after / floor | per round before / floor | per round after / floor | before instr | after instr |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|"
		med() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
		fmed=$(awk '$1 == "floor" { print $3 }' "$BA" | med)
		fmin=$(awk '$1 == "floor" { print $3 }' "$BA" | sort -n | head -1)
		for op in region log block floor; do
			mb=$(awk -v op=$op '$1 == op && $2 == "before" { print $3 }' "$BA" | med)
			ma=$(awk -v op=$op '$1 == op && $2 == "after" { print $3 }' "$BA" | med)
			nb=$(awk -v op=$op '$1 == op && $2 == "before" { print $3 }' "$BA" | sort -n | head -1)
			na=$(awk -v op=$op '$1 == op && $2 == "after" { print $3 }' "$BA" | sort -n | head -1)
			ib=$(echo "$IC_BEFORE" | awk -F' [|] ' -v op=$op '$1 == op { print $2 }')
			ia=$(echo "$IC_AFTER" | awk -F' [|] ' -v op=$op '$1 == op { print $2 }')
			# per-round ratio: this op's time over the mean of the round's floor runs
			rb=$(awk -v op=$op -v w=before '$1 == op && $2 == w { print $3 / (($5 + $6) / 2) }' "$BA" | med)
			ra=$(awk -v op=$op -v w=after '$1 == op && $2 == w { print $3 / (($5 + $6) / 2) }' "$BA" | med)
			awk -v op=$op -v mb="$mb" -v ma="$ma" -v nb="$nb" -v na="$na" -v f="$fmed" -v fm="$fmin" -v ib="$ib" -v ia="$ia" \
				-v rb="$rb" -v ra="$ra" \
				'BEGIN { printf "| %s | %.2f | %.2f | %.2fx | %.2fx | %.2fx | %.2fx | %.2fx | %.2fx | %s | %s |\n", op, mb, ma, mb / f, ma / f, nb / fm, na / fm, rb, ra, ib, ia }'
		done
		rm -f "$BA"
	fi
	ICOUNT=$("$HERE/icount.sh" "$BIN")
	if [ -n "$ICOUNT" ]; then
		echo
		echo "Instructions per event, tracing on without stacks, 1 thread (\`bench/trace/icount.sh\`:"
		echo "callgrind, 300000 minus 100000 iterations; independent of the machine's load):"
		echo
		echo "| operation | instructions/event |"
		echo "|---|---|"
		echo "$ICOUNT" | sed 's/^/| /; s/$/ |/'
	fi
	echo
	echo "Targets (issue 3): <= 12 ns and <= 5 bytes per event without stacks, < 1 ns off,"
	echo "two threads without contention (2-thread ns/event close to 1-thread). Compare each"
	echo "row with the floor row of the same run: it is the cost of the clock read alone plus a"
	echo "varint write, which bounds what any tracer can reach on this machine."
} > "$OUT"
rm -f "$TMP"
cat "$OUT"
