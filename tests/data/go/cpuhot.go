// cpuhot.go: a Go 1.22 program whose execution trace carries CPU samples
// (the CPU profiler runs while tracing, as Go's tracer records its samples),
// spending its CPU time in main.hotLoop. Used to check that
// `gort-trace pprof --type=cpu` names the hot function.
//
// Usage: go run cpuhot.go OUT.trace
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"time"
)

var sink uint64

//go:noinline
func hotLoop(d time.Duration) {
	end := time.Now().Add(d)
	x := uint64(1)
	for time.Now().Before(end) {
		for i := 0; i < 1000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	sink = x
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cpuhot OUT.trace")
		os.Exit(2)
	}
	out, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := trace.Start(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hotLoop(300 * time.Millisecond)
	trace.Stop()
	pprof.StopCPUProfile()
	out.Close()
}
