#!/bin/sh
# tests/cli/test_errors.sh: bad input for every subcommand. Each must exit
# non-zero with exactly one line on stderr saying what is wrong and where
# (file, and byte offset for bad traces), never crash, never write stdout.
GT=$1
. "$(dirname "$0")/lib.sh"
A=$DATA/annotated.trace
SIZE=$(wc -c <"$A")

# Damaged copies of a good trace.
head -c 1000 "$A" >"$TMP/trunc.trace"              # cut inside a batch
head -c 10 "$A" >"$TMP/short-header.trace"         # cut inside the header
: >"$TMP/empty.trace"
printf 'go 1.21 trace\000\000\000' >"$TMP/v121.trace"
printf 'not a trace at all, really no' >"$TMP/garbage.trace"
# corrupt one batch header byte: the first batch's size varint -> huge
"$PY" - "$A" "$TMP/badsize.trace" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
# header 16 bytes, then 0x01 gen m time size: make size's bytes 0xff... (10-byte overflow)
i = 17
for _ in range(3):           # skip gen, m, time
    while b[i] & 0x80: i += 1
    i += 1
b[i:i+1] = b'\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f'
open(sys.argv[2], 'wb').write(bytes(b))
PY
mkdir -p "$TMP/adir"

for c in validate dump stats; do
	check_err "$c: missing file" "nonexistent.trace: cannot open: No such file or directory" "$GT" $c "$TMP/nonexistent.trace"
	check_err "$c: directory" "is a directory" "$GT" $c "$TMP/adir"
	check_err "$c: truncated trace" "at byte" "$GT" $c "$TMP/trunc.trace"
	check_err "$c: truncated header" "at byte" "$GT" $c "$TMP/short-header.trace"
	check_err "$c: empty file" "at byte 0" "$GT" $c "$TMP/empty.trace"
	check_err "$c: Go 1.21 header" "at byte" "$GT" $c "$TMP/v121.trace"
	check_err "$c: not a trace" "at byte" "$GT" $c "$TMP/garbage.trace"
	check_err "$c: impossible batch size" "at byte" "$GT" $c "$TMP/badsize.trace"
	check_err "$c: no file" "missing trace FILE" "$GT" $c
	check_err "$c: two files" "unexpected argument" "$GT" $c "$A" "$A"
	check_err "$c: unknown option" "unknown option '--bogus'" "$GT" $c --bogus "$A"
done
check_err "validate: error names the file" "trunc.trace: " "$GT" validate "$TMP/trunc.trace"
check_err "stats: --top without value" "needs a value" "$GT" stats "$A" --top
check_err "stats: --top not a number" "not a number" "$GT" stats --top x "$A"
check_err "dump: unwritable output" "cannot create" "$GT" dump -o "$TMP/adir/x/y.txt" "$A"

# export
check_err "export: missing file" "cannot open" "$GT" export --format=perfetto "$TMP/nope.trace" -o "$TMP/x.json"
check_err "export: truncated" "at byte" "$GT" export --format=perfetto "$TMP/trunc.trace" -o "$TMP/t.json"
if [ -e "$TMP/t.json" ] || [ -e "$TMP/t.json.tmp" ]; then fail "export: failed export left a file"; else ok "export: failed export leaves no file"; fi
check_err "export: no format" "missing --format" "$GT" export "$A" -o "$TMP/x.json"
check_err "export: bad format" "unknown format 'svg'" "$GT" export --format=svg "$A" -o "$TMP/x.json"
check_err "export: no output" "missing -o" "$GT" export --format=perfetto "$A"
check_err "export: bad --from" "not a duration" "$GT" export --format=perfetto --from soon "$A" -o "$TMP/x.json"
check_err "export: empty window" "empty window" "$GT" export --format=perfetto --from 2s --to 1s "$A" -o "$TMP/x.json"
check_err "export: unwritable output" "cannot create" "$GT" export --format=perfetto "$A" -o "$TMP/adir/x/y.json"
check_err "export: --format without value" "needs a value" "$GT" export "$A" -o "$TMP/x.json" --format

# pprof
if have_pprof; then
check_err "pprof: missing file" "cannot open" "$GT" pprof --type=block "$TMP/nope.trace" -o "$TMP/x.pb.gz"
check_err "pprof: truncated" "at byte" "$GT" pprof --type=block "$TMP/trunc.trace" -o "$TMP/x.pb.gz"
check_err "pprof: no type" "missing --type" "$GT" pprof "$A" -o "$TMP/x.pb.gz"
check_err "pprof: bad type" "unknown --type 'heap'" "$GT" pprof --type=heap "$A" -o "$TMP/x.pb.gz"
check_err "pprof: no output" "missing -o" "$GT" pprof --type=block "$A"
check_err "pprof: bad --hz" "--hz" "$GT" pprof --type=cpu --hz=0 "$A" -o "$TMP/x.pb.gz"
check_err "pprof: --reason on another type" "--reason applies to --type=block only" "$GT" pprof --type=cpu --reason=x "$A" -o "$TMP/x.pb.gz"
check_err "pprof: unwritable output" "cannot write" "$GT" pprof --type=block "$A" -o "$TMP/adir/x/y.pb.gz"
else
	check_err "pprof without zlib: says so" "without zlib" "$GT" pprof --type=block "$A" -o "$TMP/x.pb.gz"
fi

# record
check_err "record: no command" "missing command" "$GT" record
check_err "record: no command after --" "missing command" "$GT" record -o "$TMP/r.trace" --
check_err "record: missing library" "GORT_PRELOAD_LIB=$TMP/nolib.so: no such file" env GORT_PRELOAD_LIB="$TMP/nolib.so" "$GT" record -- true
check_err "record: unknown option" "unknown option" "$GT" record --bogus -- true

# top level
check_err "unknown command" "unknown command 'frobnicate'" "$GT" frobnicate
"$GT" >/dev/null 2>&1
check_eq "no command: usage, exit 2" $? 2
finish
