#!/bin/sh
# bench/arena/run.sh [--quick] [BUILD_DIR]
# Builds one benchmark binary per allocator (bench.c with -DALLOC_<NAME>;
# jemalloc and mimalloc replace malloc process-wide, so each runs alone),
# links gort statically from BUILD_DIR (default: builds its own in
# bench/arena/.build), runs W1, W2, W3 and the two-thread W2 row with the
# allocators interleaved round by round (so machine noise hits all alike;
# the order rotates every round, so that no allocator always runs right
# after the same one: a run that just freed 1.4 GB leaves the guest's free
# lists warm for the next, see docs/arena.md), and writes medians and
# same-run ratios to bench/results/arena.md, followed by the two-thread
# scaling rounds (W2T/ZT), the system calls of W2 and the cost of a TLB
# shootdown on this machine (shootdown.c).
#   --quick   3 rounds and shorter W2/W3 (a smoke run); default 9 rounds.
# Run it under the shared benchmark lock: flock /tmp/gort-bench.lock bench/arena/run.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=9 w2n=200000 w3n=200 quick=0
if [ "${1:-}" = "--quick" ]; then rounds=3 w2n=50000 w3n=40 quick=1; shift; fi
build=${1:-}
work=${GORT_BENCH_WORK:-$here/.work}
mkdir -p "$work"
if [ -z "$build" ]; then
	build=$here/.build
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGORT_BUILD_TESTS=OFF \
		-DGORT_BUILD_TOOLS=OFF -DGORT_BUILD_EXAMPLES=OFF -DGORT_BUILD_BENCH=OFF >/dev/null
	cmake --build "$build" -j2 -t gort_static >/dev/null
fi
lib=$build/libgort.a
[ -f "$lib" ] || { echo "no $lib: build gort_static first" >&2; exit 1; }
# libgort.a's own dependencies (e.g. libdw for the stack symbolizer), as the
# build's gort.pc lists them.
privlibs=$(sed -n 's/^Libs.private: *//p' "$build/gort.pc" 2>/dev/null || :)
lib="$lib $privlibs"
CC=${CC:-cc}
CFLAGS="-O2 -g -I$root/include -I/usr/include/apr-1.0"

# name:defines:libs
variants="gort:ALLOC_GORT:$lib
gort-strict:ALLOC_GORT_STRICT:$lib
glibc:ALLOC_GLIBC:
mimalloc:ALLOC_MIMALLOC:-lmimalloc
jemalloc:ALLOC_JEMALLOC:-ljemalloc
talloc:ALLOC_TALLOC:-ltalloc
apr:ALLOC_APR:-lapr-1
obstack:ALLOC_OBSTACK:
bump:ALLOC_BUMP:"
names=""
echo "$variants" | while IFS=: read -r name def libs; do
	if $CC $CFLAGS -D$def "$here/bench.c" -o "$work/bench-$name" $libs -lpthread 2>"$work/build-$name.log"; then
		:
	else
		echo "skip $name (does not build: see $work/build-$name.log)" >&2
		rm -f "$work/bench-$name"
	fi
done
# Go 1.22 arenas, when Go is installed.
GO=${GORT_GO:-/usr/lib/go-1.22/bin/go}
if [ -x "$GO" ]; then
	mkdir -p "$work/go"
	cp "$here/go/main.go" "$work/go/main.go"
	(cd "$work/go" && GOCACHE="$work/go/cache" GOEXPERIMENT=arenas GO111MODULE=off \
		"$GO" build -o "$work/bench-go-arena" main.go) || echo "skip go-arena" >&2
fi

all="gort gort-hugepages gort-strict go-arena glibc mimalloc jemalloc talloc apr obstack bump"
# the list rotated by $1 places
rotate() {
	k=$(($1 % 11)); set -- $all
	while [ $k -gt 0 ]; do x=$1; shift; set -- "$@" "$x"; k=$((k - 1)); done
	echo "$@"
}
run_one() {   # name workload args... -> appends "name workload value rss_peak rss_end" to results
	name=$1; shift
	bin=$work/bench-$name
	envs=""
	if [ "$name" = gort-hugepages ]; then bin=$work/bench-gort; envs="GORT_ARENA_HUGEPAGES=1"; fi
	if [ "$name" = gort-prefault ]; then bin=$work/bench-gort; envs="GORT_ARENA_PREFAULT=1"; fi
	if [ "$name" = gort-noslide ]; then bin=$work/bench-gort; envs="GORT_ARENA_SLIDE=0"; fi
	if [ "$name" = zeroing-loop ]; then bin=$work/bench-bump; fi
	[ -x "$bin" ] || return 0
	line=$(env $envs "$bin" "$@" 2>/dev/null) || { echo "$name $* failed" >&2; return 0; }
	set -- $line
	echo "$name $W $1 ${3#maxrss_kb=} ${4#endrss_kb=} ${5#cpu=}" >>"$work/results.txt"
}
: >"$work/results.txt"
r=1
while [ $r -le $rounds ]; do
	echo "round $r/$rounds" >&2
	list=$(rotate $r)
	# gort-prefault (GORT_ARENA_PREFAULT=1) only changes runs that keep
	# taking fresh chunks: W1 (W2 and W3 recycle in steady state).
	for n in $list; do
		W=W1; run_one $n W1
		if [ $n = gort ]; then run_one gort-prefault W1; fi
	done
	# jemalloc's arena create/destroy (~150 us) and Go's W3 (~40-80 ms) are
	# slow: fewer iterations for them (the figure is per iteration anyway).
	# gort-noslide (GORT_ARENA_SLIDE=0): what sliding buys, where arenas
	# continue one another's chunks (W2, W3).
	for n in $list; do
		W=W2; k=$w2n; [ $n = jemalloc ] && k=$((w2n / 10)); run_one $n W2 $k
		if [ $n = gort ]; then run_one gort-noslide W2 $k; fi
	done
	for n in $list; do
		W=W3; k=$w3n; [ $n = go-arena ] && k=$((w3n / 4)); run_one $n W3 $k
		if [ $n = gort ]; then run_one gort-noslide W3 $k; fi
	done
	for n in gort gort-noslide gort-strict glibc mimalloc; do
		W=W2T1; run_one $n W2T $w2n 1
		W=W2T2; run_one $n W2T $w2n 2
	done
	# the memory system alone (no allocator), same traffic as W2
	W=W2T1; run_one zeroing-loop ZT $w2n 1
	W=W2T2; run_one zeroing-loop ZT $w2n 2
	r=$((r + 1))
done

cmd="bench/arena/run.sh${quick:+}"
[ $quick -eq 1 ] && cmd="bench/arena/run.sh --quick"
python3 "$here/report.py" "$work/results.txt" "$root/bench/results/arena.md" "$cmd" "$rounds" "$w2n" "$w3n"
# System calls of gort's W2 loop (stable where timings are not): strace -c
# over the whole process, 1 and 2 threads; the figure per iteration counts
# the iterations of all threads (setup calls included, so it is an upper bound).
if command -v strace >/dev/null 2>&1 && [ -x "$work/bench-gort" ]; then
	{
		echo
		echo "## System calls in W2 (gort, default mode)"
		echo
		echo "\`strace -f -c bench-gort W2T $w2n <threads>\` (bench-gort = bench.c with -DALLOC_GORT; whole process, setup included):"
		echo
		echo "| threads | iterations | all calls | mremap | mmap | munmap | madvise | mprotect | calls per iteration |"
		echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for t in 1 2; do
			strace -f -c -o "$work/strace-$t.txt" "$work/bench-gort" W2T $w2n $t >/dev/null 2>&1 || continue
			awk -v t=$t -v n=$((w2n * t)) '
				$NF == "total" { tot = $4 }
				$NF ~ /^(mremap|mmap|munmap|madvise|mprotect)$/ { c[$NF] = $4 }
				END { printf "| %d | %d | %d | %d | %d | %d | %d | %d | %.5f |\n", t, n, tot, c["mremap"], c["mmap"], c["munmap"], c["madvise"], c["mprotect"], tot / n }' "$work/strace-$t.txt"
		done
	} >>"$root/bench/results/arena.md"
fi
# Two-thread scaling, many short interleaved rounds: W2T 1, W2T 2, ZT 1, ZT 2.
srounds=$((rounds * 2)); [ $quick -eq 1 ] && srounds=4
if [ -x "$work/bench-gort" ] && [ -x "$work/bench-bump" ]; then
	: >"$work/scaling.txt"
	tlb() { awk '/TLB:/ { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i } END { print s + 0 }' /proc/interrupts; }
	s=1
	while [ $s -le $srounds ]; do
		for spec in "gort W2T 1" "gort W2T 2" "bump ZT 1" "bump ZT 2"; do
			set -- $spec
			i0=$(tlb)
			line=$("$work/bench-$1" $2 $w2n $3 2>/dev/null) || continue
			echo "$s $2 $3 $line tlb=$(($(tlb) - i0))" >>"$work/scaling.txt"
		done
		s=$((s + 1))
	done
	python3 - "$work/scaling.txt" "$srounds" "$w2n" >>"$root/bench/results/arena.md" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
d = {}
for r in rows:
    rnd, w, t, v = int(r[0]), r[1], int(r[2]), float(r[3])
    c = float(r[-2].split("=")[1])
    ipi = int(r[-1].split("=")[1])
    d[(rnd, w, t)] = (v, c, ipi)
def col(w, t, i):
    return [d[k][i] for k in sorted(d) if k[1] == w and k[2] == t]
print()
print("## Two-thread scaling rounds (gort W2 vs the zeroing loop)")
print()
print("%s rounds, each `bench-gort W2T %s 1`, `bench-gort W2T %s 2`, `bench-bump ZT %s 1`, "
      "`bench-bump ZT %s 2` back to back (wall ns per per-thread iteration / process CPU ns per "
      "iteration). Scaling = 2 x t(1 thread) / t(2 threads) per round, then the median; 2.0 = perfect."
      % (sys.argv[2], sys.argv[3], sys.argv[3], sys.argv[3], sys.argv[3]))
print()
print("| workload | 1 thread wall / CPU | 2 threads wall / CPU | wall scaling (median of rounds) | min..max | CPU per iteration 2 threads / 1 | TLB IPIs per run, 1 / 2 threads |")
print("|---|---:|---:|---:|---:|---:|---:|")
for w, name in (("W2T", "gort W2"), ("ZT", "zeroing loop")):
    w1, w2 = col(w, 1, 0), col(w, 2, 0)
    c1, c2 = col(w, 1, 1), col(w, 2, 1)
    if not w1 or not w2:
        continue
    sc = [2 * a / b for a, b in zip(w1, w2) if b]
    cr = [b / a for a, b in zip(c1, c2) if a]
    print("| %s | %.0f / %.0f | %.0f / %.0f | %.2fx | %.2f..%.2f | %.2f | %d / %d |" % (
        name, statistics.median(w1), statistics.median(c1), statistics.median(w2), statistics.median(c2),
        statistics.median(sc), min(sc), max(sc), statistics.median(cr),
        statistics.median(col(w, 1, 2)), statistics.median(col(w, 2, 2))))
print()
print("TLB IPIs: the kernel's count of TLB-shootdown interrupts over all CPUs during the run "
      "(/proc/interrupts; other processes on the machine add to it). gort's 2-thread run retires "
      "~%d chunks (one mremap each, see the system-call table)." % (2 * int(sys.argv[3]) // 1117))
PY
fi
# What one TLB shootdown costs here (the two-thread cost of retiring a chunk).
if $CC -O2 "$here/shootdown.c" -o "$work/shootdown" -lpthread 2>/dev/null; then
	{
		echo
		echo "## TLB shootdowns on this machine (bench/arena/shootdown.c)"
		echo
		echo "Per-call time of the mapping calls gort makes when a full chunk retires, alone and with a sibling thread of the same process spinning on the other CPU (so the kernel must interrupt it to flush its TLB); load average $(cut -d' ' -f1-3 /proc/loadavg)."
		echo
		"$work/shootdown" 200
	} >>"$root/bench/results/arena.md"
fi
echo "wrote bench/results/arena.md" >&2
