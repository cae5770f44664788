#!/bin/sh
# bench/flight/run.sh [--quick] [BUILD_DIR]
# Flight recorder benchmark: (1) event cost with the recorder on vs tracing
# to a file vs off, same process, rotating order, medians; (2) memory stays
# within max_bytes + one generation over a 60 s run (--quick: 15 s).
# Builds flight_bench in BUILD_DIR (default: build-bench-flight, Release) and
# writes bench/results/flight.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
quick=0
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
build=${1:-$src/build-bench-flight}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGORT_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" -j2 -t flight_bench >/dev/null
bin=$build/bench/flight/flight_bench
[ -x "$bin" ] || { echo "flight_bench not built (no tracer in this tree?)" >&2; exit 1; }

if [ $quick = 1 ]; then reps=5; pairs=2000000; secs=15; else reps=11; pairs=5000000; secs=60; fi
out=$(mktemp)
echo "== cost, 1 thread" >&2
"$bin" cost $reps $pairs 1 | tee -a "$out" >&2
echo "== cost, 1 thread, no stacks" >&2
GORT_TRACE_STACK_DEPTH=0 "$bin" cost $reps $pairs 1 | sed 's/^\(MEDIAN\|PROCESS\) threads=1/\1 threads=1(nostacks)/' | tee -a "$out" >&2
echo "== cost, 2 threads" >&2
"$bin" cost $reps $pairs 2 | tee -a "$out" >&2
echo "== memory" >&2
"$bin" memory $secs 16 2 | tee -a "$out" >&2

res=$src/bench/results/flight.md
mkdir -p "$(dirname "$res")"
{
  echo "# Flight recorder benchmark"
  echo
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc)"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- commit: $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- command: \`bench/flight/run.sh$([ $quick = 1 ] && echo ' --quick')\` (flight_bench cost $reps $pairs {1,2}; memory $secs 16 2)"
  echo
  echo "## Event cost (CPU ns per event of the emitting thread, region begin/end pairs, median of $reps)"
  echo
  echo "Same process; modes rotate each repetition: off, file trace (gort_trace_start_file), flight recorder (gort_flight_start(NULL): 10 s, 64 MiB)."
  echo
  echo "Stacks are captured on every event unless marked nostacks (GORT_TRACE_STACK_DEPTH=0)."
  echo
  echo "flight/file = ratio of the medians; paired = median over repetitions of flight/file measured back to back [min..max of those ratios]."
  echo
  echo "| threads | off | file | flight | flight/file | paired [range] |"
  echo "|---|---|---|---|---|---|"
  sed -n 's/^MEDIAN threads=\([^ ]*\) off=\([^ ]*\) file=\([^ ]*\) flight=\([^ ]*\) flight\/file=\([^ ]*\) paired=\([^ ]*\) \(.*\)$/| \1 | \2 | \3 | \4 | \5 | \6 \7 |/p' "$out"
  echo
  echo "Whole-process CPU per event (emitting threads + the tracer's delivery thread, median):"
  echo
  echo "| threads | off | file | flight | flight/file |"
  echo "|---|---|---|---|---|"
  sed -n 's/^PROCESS threads=\([^ ]*\) off=\([^ ]*\) file=\([^ ]*\) flight=\([^ ]*\) flight\/file=\([^ ]*\)$/| \1 | \2 | \3 | \4 | \5 |/p' "$out"
  echo
  echo "## Memory bound (${secs} s, max_bytes 16 MiB, window 10 s, 2 threads emitting as fast as they can)"
  echo
  echo '```'
  grep '^MEMORY' "$out" | tr ' ' '\n' | sed -n '2,$p'
  echo '```'
  echo
  echo "max_kept = largest total of kept complete generations seen (must be <= max_bytes);"
  echo "max_store = largest chunk memory of the store (kept + generation being received + chunk pool);"
  echo "the bound is max_bytes plus the largest generation being received plus the pool (max_bytes / 8)."
  echo "rss_growth also holds the tracer's per-thread buffers and the C library's free lists."
  echo
  echo "## Raw"
  echo
  echo '```'
  cat "$out"
  echo '```'
} > "$res"
rm -f "$out"
echo "wrote $res" >&2
