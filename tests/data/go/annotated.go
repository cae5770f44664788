// annotated.go: a Go 1.22 program that writes an execution trace with a
// known number of goroutines, tasks, regions and logs, so that
// `gort-trace stats` can be checked against what the program did.
//
// Usage: go run annotated.go OUT.trace
// Creates exactly: 6 goroutines starting in main.worker, 6 tasks of type
// "job", 18 regions "step" (3 per task) each with one nested region "inner"
// (18), 12 logs in category "progress" and 6 in "done", and blocks each
// worker on a contended mutex and a channel receive. It prints these
// numbers as "key=value" lines on stdout.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/trace"
	"sync"
	"time"
)

const workers = 6

var mu sync.Mutex

func spin(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
	}
}

func worker(id int, start <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	<-start
	ctx, task := trace.NewTask(context.Background(), "job")
	for i := 0; i < 3; i++ {
		trace.WithRegion(ctx, "step", func() {
			mu.Lock()
			// Sleeping with the lock held makes the other workers block on
			// it for sure (contention without relying on parallelism).
			trace.WithRegion(ctx, "inner", func() { spin(100 * time.Microsecond); time.Sleep(300 * time.Microsecond) })
			mu.Unlock()
			if i < 2 {
				trace.Log(ctx, "progress", fmt.Sprintf("worker %d step %d", id, i))
			}
		})
	}
	f, err := os.CreateTemp("", "gort-annotated")
	if err == nil {
		f.Write(make([]byte, 4096))
		f.Sync()
		f.Close()
		os.Remove(f.Name())
	}
	trace.Log(ctx, "done", fmt.Sprint(id))
	task.End()
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: annotated OUT.trace")
		os.Exit(2)
	}
	out, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := trace.Start(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go worker(i, start, &wg)
	}
	time.Sleep(10 * time.Millisecond)
	close(start)
	wg.Wait()
	trace.Stop()
	out.Close()
	fmt.Printf("workers=%d\ntasks=%d\nregions_step=%d\nregions_inner=%d\nlogs_progress=%d\nlogs_done=%d\n",
		workers, workers, 3*workers, 3*workers, 2*workers, workers)
}
