// bench/arena/go/main.go: the workloads of bench/arena/bench.c on Go 1.22's
// experimental arenas (GOEXPERIMENT=arenas), for comparison. Same output
// format: "<value> <unit> maxrss_kb=<peak> endrss_kb=<after> cpu=<CPU time
// of the timed region, same unit>". Go's background GC workers count too.
package main

import (
	"arena"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

func sizes(n int, span uint64) []uint8 {
	s := uint64(0x9E3779B97F4A7C15)
	out := make([]uint8, n)
	for i := range out {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		out[i] = uint8(s % span)
	}
	return out
}

func rssKB() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var vm, rss int64
	fmt.Sscan(string(b), &vm, &rss)
	return rss * int64(os.Getpagesize()) / 1024
}

var cpuPer float64

func cpuNow() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano() + ru.Stime.Nano())
}

func w1() float64 {
	n := 10000000
	sz := sizes(n, 241)
	t := time.Now()
	c0 := cpuNow()
	a := arena.NewArena()
	for i := 0; i < n; i++ {
		o := arena.MakeSlice[byte](a, 16+int(sz[i]), 16+int(sz[i]))
		o[0] = 1
	}
	a.Free()
	cpuPer = (cpuNow() - c0) / float64(n)
	return float64(time.Since(t).Nanoseconds()) / float64(n)
}

func w2(iters int) float64 {
	sz := sizes(1<<20, 113)
	k := 0
	t := time.Now()
	c0 := cpuNow()
	for it := 0; it < iters; it++ {
		a := arena.NewArena()
		for i := 0; i < 100; i++ {
			o := arena.MakeSlice[byte](a, 16+int(sz[k]), 16+int(sz[k]))
			o[0] = 1
			k++
			if k == len(sz) {
				k = 0
			}
		}
		a.Free()
	}
	cpuPer = (cpuNow() - c0) / float64(iters)
	return float64(time.Since(t).Nanoseconds()) / float64(iters)
}

func w3(iters int) float64 {
	t := time.Now()
	c0 := cpuNow()
	for it := 0; it < iters; it++ {
		a := arena.NewArena()
		for i := 0; i < 2048; i++ {
			o := arena.MakeSlice[byte](a, 32<<10, 32<<10)
			o[0] = 1
		}
		a.Free()
	}
	cpuPer = (cpuNow() - c0) / float64(iters) / 1e6
	return float64(time.Since(t).Nanoseconds()) / float64(iters) / 1e6
}

func main() {
	iters := 0
	if len(os.Args) > 2 {
		iters, _ = strconv.Atoi(os.Args[2])
	}
	var v float64
	unit := ""
	switch os.Args[1] {
	case "W1":
		v, unit = w1(), "ns/object"
	case "W2":
		if iters == 0 {
			iters = 200000
		}
		v, unit = w2(iters), "ns/iter"
	case "W3":
		if iters == 0 {
			iters = 200
		}
		v, unit = w3(iters), "ms/iter"
	default:
		os.Exit(2)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("%.3f %s maxrss_kb=%d endrss_kb=%d cpu=%.3f\n", v, unit, ru.Maxrss, rssKB(), cpuPer)
}
