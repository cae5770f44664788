# tests/cli/lib.sh: helpers for the gort-trace script tests (POSIX sh).
# Source it after setting GT (the gort-trace binary). Every check prints
# "ok ..." or "FAIL ..." and the test ends with `finish` (exit 1 on failure).
GT_FAILED=0
GT_PASSED=0
TMP=${GORT_TEST_TMPDIR:-/tmp/gort-cli-test.$$}
mkdir -p "$TMP"
DATA=${GORT_SOURCE_DIR:?GORT_SOURCE_DIR unset}/tests/data/cli
GODATA=$GORT_SOURCE_DIR/tests/data/go
export GORT_NO_PROGRESS=1
# The interpreter itself (python3 may be a wrapper script, e.g. a pyenv shim,
# which costs a shell start per check); -S: no site packages, faster start.
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -n "$PY" ] || PY=python3

# pprof needs zlib in the build; without it the subcommand says so.
have_pprof() {
	! "$GT" pprof --type=block "$DATA/go122-task-across-generations.trace" -o "$TMP/probe.pb.gz" 2>&1 |
		grep -q "without zlib"
}

ok()   { GT_PASSED=$((GT_PASSED + 1)); echo "ok   $*"; }
fail() { GT_FAILED=$((GT_FAILED + 1)); echo "FAIL $*"; }

# check DESC CMD...: CMD must succeed
check() {
	desc=$1; shift
	if "$@" >"$TMP/out" 2>"$TMP/err"; then ok "$desc"; else fail "$desc (status $?): $(head -c 600 "$TMP/err")"; fi
}

# check_eq DESC GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi
}

# check_grep DESC PATTERN FILE: FILE contains the fixed string PATTERN
check_grep() {
	if grep -qF -- "$2" "$3"; then ok "$1"; else fail "$1: '$2' not in $3: $(head -c 600 "$3")"; fi
}

# check_err DESC PATTERN CMD...: CMD fails (non-zero), stderr is exactly one
# line starting with "gort-trace: " and containing PATTERN, stdout is empty.
check_err() {
	desc=$1; pat=$2; shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	st=$?
	lines=$(wc -l <"$TMP/err")
	if [ $st -eq 0 ]; then
		fail "$desc: exit status 0"
	elif [ $st -ge 128 ]; then
		fail "$desc: died of signal $((st - 128))"
	elif [ "$lines" -ne 1 ]; then
		fail "$desc: stderr has $lines lines: $(head -c 600 "$TMP/err")"
	elif ! grep -q '^gort-trace: ' "$TMP/err"; then
		fail "$desc: stderr does not start with 'gort-trace: ': $(cat "$TMP/err")"
	elif ! grep -qF -- "$pat" "$TMP/err"; then
		fail "$desc: '$pat' not in: $(cat "$TMP/err")"
	elif [ -s "$TMP/out" ]; then
		fail "$desc: wrote to stdout: $(head -c 300 "$TMP/out")"
	else
		ok "$desc ($(cat "$TMP/err"))"
	fi
}

# jq-like checks with python3: json_check DESC FILE PYTHON-EXPR (d = the document)
json_check() {
	desc=$1; file=$2; expr=$3
	if r=$("$PY" -S -c "import json,sys; d=json.load(open(sys.argv[1])); r=($expr); print(r); sys.exit(0 if r is True else 1)" "$file" 2>&1); then
		ok "$desc"
	else
		fail "$desc: $expr -> $(echo "$r" | tail -3)"
	fi
}

finish() {
	echo "$GT_PASSED passed, $GT_FAILED failed"
	[ $GT_FAILED -eq 0 ]
	exit $?
}
