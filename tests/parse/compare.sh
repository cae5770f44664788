#!/bin/sh
# tests/parse/compare.sh GO_LOG OURS: compares Go's `gotracevalidate
# -log-events` output with tp_dump's, thread by thread. Each event (a line
# starting "M=" plus its stack lines) becomes one line; events are grouped by
# their M (stable sort), so each thread's sequence is compared in order.
# Event text must be identical; times may differ by a few ns because Go breaks
# timestamp ties between threads in map order and then bumps tied events by
# 1 ns (both orders are valid Go output).
# Exit 0 if equal, 1 with the first differences on stdout otherwise.
set -eu
norm() {
  awk '/^M=/{if(e!="")print e; e=$0; next} NF{e=e"|"$0} END{if(e!="")print e}' "$1" | sort -s -k1,1
}
norm "$1" > "$1.norm"
norm "$2" > "$2.norm"
awk -v tol=64 '
  function split_time(s, out,   i, j) {
    i = index(s, " Time=")
    if (i == 0) { out["pre"] = s; out["t"] = 0; out["post"] = ""; return }
    j = i + 6
    while (substr(s, j, 1) ~ /[-0-9]/) j++
    out["pre"] = substr(s, 1, i - 1); out["t"] = substr(s, i + 6, j - i - 6) + 0; out["post"] = substr(s, j)
  }
  NR == FNR { go[FNR] = $0; ngo = FNR; next }
  {
    nus = FNR
    split_time(go[FNR], a); split_time($0, b)
    d = a["t"] - b["t"]; if (d < 0) d = -d
    if (a["pre"] != b["pre"] || a["post"] != b["post"] || d > tol) {
      if (bad < 5) { print "go:   " substr(go[FNR], 1, 300); print "ours: " substr($0, 1, 300) }
      bad++
    }
  }
  END {
    if (ngo != nus) { print "event counts differ: go " ngo ", ours " nus; bad++ }
    exit bad ? 1 : 0
  }' "$1.norm" "$2.norm"
