#!/bin/sh
# bench/arena/abba.sh ROUNDS "ARGS" BIN_A BIN_B
# A/B comparison of two builds of bench.c (or any command printing the same
# "... cpu=<ns>" line) on one workload, for changes too small for run.sh's
# table: each round runs A, B, B, A (so neither side always runs first,
# after the other, or on a warmer machine), and the figure is the median
# over rounds of (B1 + B2) / (A1 + A2) in CPU time. Example:
#   bench/arena/abba.sh 8 "W2 200000" /tmp/old/bench-gort bench/arena/.work/bench-gort
# Run it under the benchmark lock: flock /tmp/gort-bench.lock bench/arena/abba.sh ...
set -eu
[ $# -eq 4 ] || { echo "usage: $0 ROUNDS \"ARGS\" BIN_A BIN_B" >&2; exit 2; }
n=$1 args=$2 a=$3 b=$4
cpu() { "$1" $args | sed -n 's/.*cpu=\([0-9.]*\).*/\1/p'; }
i=0
while [ $i -lt "$n" ]; do
	echo "$(cpu "$a") $(cpu "$b") $(cpu "$b") $(cpu "$a")"
	i=$((i + 1))
done | python3 -c '
import statistics as st, sys
r = [list(map(float, l.split())) for l in sys.stdin if len(l.split()) == 4]
if not r:
    sys.exit("abba.sh: no figures (does the command print cpu=?)")
A = [x for q in r for x in (q[0], q[3])]
B = [x for q in r for x in (q[1], q[2])]
rat = sorted((q[1] + q[2]) / (q[0] + q[3]) for q in r)
print("A median %.1f ns, B median %.1f ns; B/A per round: median %.3f, range %.3f..%.3f (%d rounds)"
      % (st.median(A), st.median(B), st.median(rat), rat[0], rat[-1], len(r)))'
