#!/bin/sh
# tests/valgrind.sh PROGRAM [ARGS]: run PROGRAM under memcheck; fail on any
# error or leak (definite or indirect; the detached trimmer thread's own
# glibc thread block shows as "possibly lost" at exit, as for any detached thread). Exit 77 (skip) when valgrind is not installed.
command -v valgrind >/dev/null 2>&1 || { echo "valgrind not installed"; exit 77; }
out=$(valgrind --error-exitcode=3 --leak-check=full --show-leak-kinds=definite,indirect \
      --errors-for-leak-kinds=definite,indirect "$@" 2>&1)
rc=$?
echo "$out"
# valgrind 3.19 cannot read clang 14's DWARF 5: that is valgrind's limit, not ours.
if echo "$out" | grep -q "debuginfo reader: Possibly corrupted debuginfo"; then
	echo "valgrind cannot read this compiler's debug info; skipped"; exit 77
fi
[ $rc -eq 0 ] || { echo "FAIL: valgrind exit $rc"; exit 1; }
echo "$out" | grep -q "ERROR SUMMARY: 0 errors" || { echo "FAIL: memcheck errors"; exit 1; }
echo "$out" | grep -Eq "definitely lost: 0 bytes|no leaks are possible" || { echo "FAIL: leak"; exit 1; }
echo ok
