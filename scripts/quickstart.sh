#!/bin/sh
# scripts/quickstart.sh: install dependencies, build gort, run the demo.
# The demo shows arenas at work and writes an execution trace (demo.trace) that
# Go's `go tool trace` opens.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build/quick -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGORT_BUILD_TESTS=OFF -DGORT_BUILD_BENCH=OFF >/dev/null
cmake --build build/quick -j "$(nproc)" >/dev/null
echo "built: build/quick (libgort, gort-trace, examples)"
exec build/quick/examples/gort-demo "$@"
