#!/bin/sh
# bench/parse/run.sh [--quick] [BUILD_DIR]
#
# Throughput and peak memory of gort's trace reader against Go 1.22's own,
# on one large trace of a real Go program:
#   1. builds bench_parse (and Go's gotracevalidate) in BUILD_DIR (default:
#      its own Release build in build/bench-parse);
#   2. writes a trace of >= 200 MB (--quick: >= 20 MB) by running
#      tests/parse/goprog/workload.go under runtime/trace (kept and reused);
#   3. times, interleaved, REPS runs each (5; --quick: 2) of
#        gort-reader bench_parse -n TRACE     (our reader with Go's Reader
#                   checks only, every event)
#        go-reader  Go's internal/trace/v2 Reader alone (bench/parse/goreader,
#                   built with `go build -overlay` as if inside GOROOT)
#        gort       bench_parse TRACE         (our reader + Go's validator checks,
#                   the default)
#        go-validate gotracevalidate < TRACE  (Go's reader + its validator,
#                   the binary the build makes for the tests)
#        gort-trace stats TRACE               (when the build has it)
#      with /usr/bin/time (wall, user+sys CPU, max RSS);
#   4. writes medians and ratios to bench/results/parse.md.
set -eu
quick=0
if [ "${1:-}" = --quick ]; then quick=1; shift; fi
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/bench-parse}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
GO=${GORT_GO:-$(command -v go || echo /usr/lib/go-1.22/bin/go)}
[ -x "$GO" ] || GO=/usr/lib/go-1.22/bin/go
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGORT_BUILD_TESTS=ON >/dev/null
fi
cmake --build "$build" -j 2 -t bench_parse gort_go_tools >/dev/null
BENCH=$build/bench/parse/bench_parse
GOVALIDATE=$build/gotools/gotracevalidate
STATS=$(find "$build/tools" -name gort-trace -type f -perm -u+x 2>/dev/null | head -1 || true)

if [ $quick = 1 ]; then target_mb=20 reps=2 dur=1s; else target_mb=200 reps=5 dur=4s; fi
work=$build/bench-parse-data
mkdir -p "$work"
export GOTOOLCHAIN=local GOCACHE="$build/gocache"
GOROOT=$("$GO" env GOROOT)

# ---- the trace ---------------------------------------------------------------
trace=$work/workload-${target_mb}mb.trace
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
tries=0
while [ "$(size "$trace")" -lt $((target_mb * 1000000)) ]; do
  tries=$((tries + 1))
  [ $tries -le 5 ] || { echo "run.sh: could not write a ${target_mb} MB trace" >&2; exit 1; }
  echo "writing trace: workload.go -d $dur ..."
  "$GO" run "$root/tests/parse/goprog/workload.go" -d "$dur" -w 8 -o "$trace"
  echo "  $(size "$trace") bytes"
  # The trace rate depends on the machine's load: scale the duration up.
  got=$(size "$trace")
  dur=$(echo "$dur" | sed 's/s$//')
  dur=$(( dur * (target_mb * 1300000 / (got + 1)) + dur + 1 ))s
done

# ---- Go's reader alone, built inside GOROOT through an overlay ----------------
goread=$work/gotraceread
if [ ! -x "$goread" ] || [ "$root/bench/parse/goreader/main.go" -nt "$goread" ]; then
  printf '{"Replace":{"%s/src/internal/trace/v2/testdata/cmd/gotraceread/main.go":"%s"}}\n' \
    "$GOROOT" "$root/bench/parse/goreader/main.go" > "$work/overlay.json"
  (cd "$GOROOT/src" && "$GO" build -overlay "$work/overlay.json" -o "$goread" ./internal/trace/v2/testdata/cmd/gotraceread)
fi

# ---- timing ------------------------------------------------------------------
res=$work/times
rm -f "$res".*
run() {  # name, command...
  name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/t.one" sh -c "$*" > "$work/out.$name" 2>&1 || {
    echo "run.sh: $name failed:" >&2; cat "$work/out.$name" >&2; exit 1; }
  cat "$work/t.one" >> "$res.$name"
}
i=0
while [ $i -lt $reps ]; do
  i=$((i + 1))
  echo "round $i/$reps"
  run gortreader "'$BENCH' -n '$trace'"
  run goreader "'$goread' < '$trace'"
  run gort "'$BENCH' '$trace'"
  run govalidate "'$GOVALIDATE' < '$trace'"
  if [ -n "$STATS" ]; then run stats "'$STATS' stats '$trace'"; fi
done
events=$("$BENCH" "$trace" | sed 's/.*events=\([0-9]*\) .*/\1/')
info=$("$BENCH" "$trace")
gens=$(echo "$info" | sed 's/.*generations=\([0-9]*\) .*/\1/')
maxgen=$(echo "$info" | sed 's/.*max_generation_bytes=\([0-9]*\) .*/\1/')

median() {  # file, awk expression over $1..$4 -> median
  awk "{print $2}" "$1" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'
}
row() {  # name, label
  f=$res.$1
  [ -f "$f" ] || return 0
  wall=$(median "$f" '$1'); cpu=$(median "$f" '$2+$3'); rss=$(median "$f" '$4')
  eval "wall_$1=$wall cpu_$1=$cpu rss_$1=$rss"
  awk -v n="$2" -v w="$wall" -v c="$cpu" -v r="$rss" -v e="$events" 'BEGIN{
    printf "| %s | %.2f | %.2f | %.1f | %.1f | %.0f |\n", n, w, c, e/w/1e6, e/c/1e6, r/1024 }'
}

bytes=$(size "$trace")
out=$root/bench/results/parse.md
mkdir -p "$(dirname "$out")"
{
  echo "# Parser benchmark (bench/parse)"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- command: \`bench/parse/run.sh$( [ $quick = 1 ] && echo ' --quick')\` ($reps interleaved rounds, medians)"
  echo "- trace: \`tests/parse/goprog/workload.go\` under runtime/trace (Go $("$GO" env GOVERSION)): $bytes bytes, $events events, $gens generations, largest generation about $maxgen bytes"
  echo
  echo "| reader | wall s | CPU s (user+sys) | Mevents/s (wall) | Mevents/s (CPU) | peak RSS MB |"
  echo "|---|---|---|---|---|---|"
  row gortreader "gort reader, Go's Reader checks (\`bench_parse -n\`)"
  row goreader "Go 1.22 internal/trace/v2 Reader alone"
  row gort "gort reader + validator checks (\`bench_parse\`, the default)"
  row govalidate "Go 1.22 gotracevalidate (Reader + Validator)"
  row stats "gort-trace stats"
  echo
  awk -v wn="$wall_gortreader" -v cn="$cpu_gortreader" -v wg="$wall_gort" -v cg="$cpu_gort" \
      -v wr="$wall_goreader" -v cr="$cpu_goreader" -v wv="$wall_govalidate" -v cv="$cpu_govalidate" \
      -v rg="$rss_gort" -v rr="$rss_goreader" -v b="$bytes" -v mg="$maxgen" 'BEGIN{
    printf "Throughput of gort relative to Go, like for like (same run, medians):\n\n"
    printf "- reader vs reader (gort -n vs Go Reader): %.1fx (CPU), %.1fx (wall)\n", cr/cn, wr/wn
    printf "- validating vs validating (gort vs gotracevalidate): %.1fx (CPU), %.1fx (wall)\n", cv/cg, wv/wg
    printf "- gort peak RSS %.0f MB (Go Reader: %.0f MB) for a %.0f MB trace whose largest generation is %.0f MB\n", rg/1024, rr/1024, b/1e6, mg/1e6
  }'
  echo
  echo "Target: >= 5x Go's throughput, memory bounded by one generation. CPU time is"
  echo "the steadier measure on this shared machine (other jobs ran at the same time);"
  echo "Go's reader also runs its garbage collector on other cores, so its wall time"
  echo "can be below its CPU time."
} > "$out"
cat "$out"
