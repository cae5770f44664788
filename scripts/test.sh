#!/bin/sh
# scripts/test.sh: the whole test suite, as CI runs it (.ci/run calls this).
#
# 1. installs dependencies (scripts/install-deps.sh; needs root the first time)
# 2. main build (-Wall -Wextra -Werror), all tests under ctest, including the
#    install test that builds examples/consumer against the installed package
# 3. ASan+UBSan build, all tests except those labelled no-asan
#    3b. unoptimised build without sanitizers, the tests labelled no-asan
#        (the preload library and crash tests: they must hold at -O0 too,
#        where the compiler makes no tail calls)
# 4. TSan build (clang), the tests labelled threads
# 5. clang fuzz build: short fuzzer runs (label fuzz), when tests/fuzz exists
# 6. Release build (-O3, -Werror: gcc warns differently at -O3), the tests
#    not labelled slow
#
# Environment: GORT_TEST_JOBS (default: number of CPUs), GORT_TEST_STAGES
# (default "main asan debug tsan fuzz release"), GORT_BUILD_ROOT (default ./build).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${GORT_TEST_JOBS:-$(nproc)}
stages=${GORT_TEST_STAGES:-main asan debug tsan fuzz release}
broot=${GORT_BUILD_ROOT:-$root/build}

scripts/install-deps.sh

stage() {  # name, ctest args, cmake args...
	name=$1; shift
	cargs=$1; shift
	echo "==== stage $name ===="
	cmake -S "$root" -B "$broot/$name" -DGORT_WERROR=ON "$@" >/dev/null
	cmake --build "$broot/$name" -j "$jobs"
	# shellcheck disable=SC2086
	ctest --test-dir "$broot/$name" --output-on-failure --no-tests=error -j "$jobs" $cargs
}

for s in $stages; do
	case $s in
	main) stage main "" -DCMAKE_BUILD_TYPE=RelWithDebInfo ;;
	asan) stage asan "-LE no-asan" -DCMAKE_BUILD_TYPE=Debug -DGORT_SANITIZE=address,undefined -DGORT_BUILD_BENCH=OFF ;;
	debug) stage debug "-L no-asan" -DCMAKE_BUILD_TYPE=Debug -DGORT_BUILD_BENCH=OFF ;;
	# clang's TSan: gcc's rejects the standalone fences of the tracer's
	# sequence lock and the arena's per-thread caches (-Wtsan).
	tsan) CC=clang stage tsan "-L threads" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGORT_SANITIZE=thread -DGORT_BUILD_BENCH=OFF ;;
	fuzz)
		if [ -f tests/fuzz/CMakeLists.txt ]; then
			CC=clang stage fuzz "-L fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGORT_BUILD_FUZZ=ON -DGORT_BUILD_BENCH=OFF
		fi ;;
	release) stage release "-LE slow" -DCMAKE_BUILD_TYPE=Release ;;
	*) echo "test.sh: unknown stage '$s'" >&2; exit 2 ;;
	esac
done
echo "==== all stages passed: $stages ===="
