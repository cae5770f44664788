#!/bin/sh
# bench/trace/icount.sh BENCH_TRACE_BINARY: instructions per event (tracing
# on, no stacks, 1 thread) for each operation, counted by callgrind: the
# difference between runs of 300000 and 100000 iterations divided by the
# events in between, so start-up and trace start/stop cancel out. Instruction
# counts, unlike times, do not depend on the load of a shared machine.
# Prints "op | instructions/event" lines; nothing without valgrind.
set -eu
BIN=$1
command -v valgrind >/dev/null 2>&1 || exit 0
TMP=$(mktemp -d)
count() {
	valgrind --tool=callgrind --callgrind-out-file="$TMP/out" "$BIN" "$2" 1 "$1" \
		>/dev/null 2>"$TMP/err"
	sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$TMP/err"
}
for op in region log block floor; do
	case $op in region) ev=2 ;; block) ev=3 ;; *) ev=1 ;; esac
	a=$(count $op 100000)
	b=$(count $op 300000)
	awk -v a="$a" -v b="$b" -v ev=$ev -v op=$op \
		'BEGIN { printf "%s | %.1f\n", op, (b - a) / (200000 * ev) }'
done
rm -rf "$TMP"
