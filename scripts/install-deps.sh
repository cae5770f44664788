#!/bin/sh
# scripts/install-deps.sh: install everything gort needs to build, test and
# benchmark on Debian 12 (run as root; idempotent, fast when all is present).
#
#   build:      gcc, cmake, pkg-config, make
#   tests:      clang + compiler-rt (fuzzers, sanitizers), valgrind, curl,
#               Go 1.22 from bookworm-backports (its trace validator and
#               `go tool trace` are the oracles the tests check against)
#   features:   libdw/libelf (symbolized stacks), zlib (pprof .pb.gz)
#   benchmarks: mimalloc, jemalloc, talloc, APR (peers), hyperfine, perf
set -eu

PKGS="build-essential cmake pkg-config make git curl ca-certificates
clang llvm libclang-rt-14-dev valgrind
libdw-dev libelf-dev zlib1g-dev
libmimalloc-dev libjemalloc-dev libtalloc-dev libapr1-dev
hyperfine linux-perf python3"
GO_PKG=golang-1.22-go
GO=/usr/lib/go-1.22/bin/go

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
need_go=0
[ -x "$GO" ] || need_go=1

if [ -z "$missing" ] && [ $need_go -eq 0 ]; then
	echo "install-deps: all dependencies present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing:$missing $( [ $need_go -eq 1 ] && echo $GO_PKG ); run as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive

# Go 1.22 lives in bookworm-backports; add that suite, on the same mirror as
# the machine's main Debian entry, if no source lists it yet.
if [ $need_go -eq 1 ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	uri=""
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk '$1=="deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list)
	fi
	[ -n "$uri" ] || { echo "install-deps: cannot find the Debian mirror to add bookworm-backports" >&2; exit 1; }
	printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$uri" > /etc/apt/sources.list.d/gort-backports.sources
fi

echo "install-deps: installing:$missing $( [ $need_go -eq 1 ] && echo $GO_PKG )"
apt-get update -qq
# shellcheck disable=SC2086
[ -z "$missing" ] || apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ $need_go -eq 0 ] || apt-get install -y -qq --no-install-recommends -t bookworm-backports $GO_PKG >/dev/null
"$GO" version
