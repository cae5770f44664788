#!/bin/sh
# bench/arena/run.sh [--quick] [BUILD_DIR]
# Builds one benchmark binary per allocator (bench.c with -DALLOC_<NAME>;
# jemalloc and mimalloc replace malloc process-wide, so each runs alone),
# links gort statically from BUILD_DIR (default: builds its own in
# bench/arena/.build), runs W1, W2, W3 and the two-thread W2 row with the
# allocators interleaved round by round (so machine noise hits all alike),
# and writes medians and same-run ratios to bench/results/arena.md.
#   --quick   3 rounds and shorter W2/W3 (a smoke run); default 9 rounds.
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
run_one() {   # name workload args... -> appends "name workload value rss_peak rss_end" to results
	name=$1; shift
	bin=$work/bench-$name
	envs=""
	if [ "$name" = gort-hugepages ]; then bin=$work/bench-gort; envs="GORT_ARENA_HUGEPAGES=1"; fi
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
	for n in $all; do W=W1; run_one $n W1; done
	# jemalloc's arena create/destroy (~150 us) and Go's W3 (~40-80 ms) are
	# slow: fewer iterations for them (the figure is per iteration anyway).
	for n in $all; do W=W2; k=$w2n; [ $n = jemalloc ] && k=$((w2n / 10)); run_one $n W2 $k; done
	for n in $all; do W=W3; k=$w3n; [ $n = go-arena ] && k=$((w3n / 4)); run_one $n W3 $k; done
	for n in gort gort-strict glibc mimalloc; do
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
echo "wrote bench/results/arena.md" >&2
