#!/bin/sh
# tests/install/install.sh BUILD_DIR SOURCE_DIR CC
# Installs BUILD_DIR into a fresh prefix and builds examples/consumer against
# it three ways: find_package(gort) shared, find_package(gort) static,
# pkg-config. Each resulting program must print "consumer ok".
set -eu
build=$1 src=$2 cc=$3
tmp=${GORT_TEST_TMPDIR:-/tmp}/install
rm -rf "$tmp" && mkdir -p "$tmp"
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
for f in include/gort/arena.h include/gort/common.h; do
	[ -f "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
pc=$(find "$prefix" -name gort.pc | head -n1)
cfg=$(find "$prefix" -name gortConfig.cmake | head -n1)
[ -n "$pc" ] || { echo "FAIL: gort.pc not installed"; exit 1; }
[ -n "$cfg" ] || { echo "FAIL: gortConfig.cmake not installed"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")

# 1+2. find_package(gort): shared and static
cmake -S "$src/examples/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_C_COMPILER="$cc" >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/consumer" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/consumer/consumer")
[ "$out" = "consumer ok" ] || { echo "FAIL: find_package shared: '$out'"; exit 1; }
out=$(env -u LD_LIBRARY_PATH "$tmp/consumer/consumer_static")
[ "$out" = "consumer ok" ] || { echo "FAIL: find_package static: '$out'"; exit 1; }
# the shared one really uses the installed library
LD_LIBRARY_PATH="$libdir" ldd "$tmp/consumer/consumer" | grep -q "$libdir/libgort.so" || {
	echo "FAIL: consumer not linked against $libdir/libgort.so"; exit 1; }

# 3. pkg-config (shared, then static)
command -v pkg-config >/dev/null 2>&1 || { echo "pkg-config missing"; exit 1; }
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# gort.pc names the prefix chosen at configure time; we installed elsewhere.
pkgc() { pkg-config --define-variable=prefix="$prefix" "$@"; }
"$cc" -o "$tmp/pc_consumer" "$src/examples/consumer/main.c" $(pkgc --cflags --libs gort)
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/pc_consumer")
[ "$out" = "consumer ok" ] || { echo "FAIL: pkg-config shared: '$out'"; exit 1; }
"$cc" -o "$tmp/pc_consumer_static" "$src/examples/consumer/main.c" $(pkgc --cflags gort) \
	"$libdir/libgort.a" $(pkgc --libs-only-other --static gort) \
	$(pkgc --static --libs gort | sed 's/-lgort//')
out=$("$tmp/pc_consumer_static")
[ "$out" = "consumer ok" ] || { echo "FAIL: pkg-config static: '$out'"; exit 1; }
echo "install ok: find_package (shared, static) and pkg-config (shared, static)"
