// tests/parse/goprog/workload.go: a small Go program that writes a Go 1.22
// execution trace of a busy, varied workload to stdout (or -o FILE), used by
// the parser tests (a real program's trace, compared against Go's reader) and
// by bench/parse (run long enough to produce a large trace).
//
// Each worker goroutine loops: a user task with a region and a log message,
// some allocation, a channel ping-pong with its partner (block/unblock), a
// contended mutex, an occasional pipe write/read (syscalls) and sleep;
// runtime.GC() runs now and then. All of it until -d has passed.
//
// Usage: go run workload.go [-d 300ms] [-w 8] [-o out.trace]
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"runtime"
	"runtime/trace"
	"strconv"
	"sync"
	"time"
)

var sink [][]byte

func main() {
	dur := flag.Duration("d", 300*time.Millisecond, "how long to run")
	workers := flag.Int("w", 8, "worker goroutines (even)")
	out := flag.String("o", "", "trace file (default stdout)")
	flag.Parse()

	w := os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		w = f
	}
	if err := trace.Start(w); err != nil {
		log.Fatal(err)
	}
	defer trace.Stop()

	pr, pw, err := os.Pipe()
	if err != nil {
		log.Fatal(err)
	}
	deadline := time.Now().Add(*dur)
	var mu sync.Mutex
	var wg sync.WaitGroup
	chans := make([]chan int, *workers)
	for i := range chans {
		chans[i] = make(chan int)
	}
	for i := 0; i < *workers; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			ctx, task := trace.NewTask(context.Background(), "worker")
			defer task.End()
			mine, partner := chans[id], chans[id^1]
			buf := make([]byte, 1)
			for n := 0; time.Now().Before(deadline); n++ {
				jctx, job := trace.NewTask(ctx, "job")
				trace.WithRegion(jctx, "compute", func() {
					b := make([]byte, 64+n%512)
					mu.Lock()
					if len(sink) > 256 {
						sink = sink[:0]
					}
					sink = append(sink, b)
					mu.Unlock()
				})
				if n%64 == 0 {
					trace.Log(jctx, "iteration", strconv.Itoa(n))
				}
				// Ping-pong with the partner: both sides send then receive.
				select {
				case partner <- n:
				case <-time.After(time.Millisecond):
				}
				select {
				case <-mine:
				case <-time.After(time.Millisecond):
				}
				if n%128 == 0 {
					pw.Write([]byte{1})
					pr.Read(buf)
				}
				if n%512 == 0 {
					time.Sleep(50 * time.Microsecond)
				}
				job.End()
			}
		}(i)
	}
	go func() {
		for time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			runtime.GC()
		}
	}()
	wg.Wait()
}
