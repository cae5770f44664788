// busy.go: a Go 1.22 program that writes a large execution trace quickly
// (channel ping-pong between goroutine pairs, user regions and logs), for
// measuring gort-trace on big inputs.
//
// Usage: go run busy.go OUT.trace SECONDS
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/trace"
	"strconv"
	"sync"
	"time"
)

func pair(ctx context.Context, stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	for i := 0; ; i++ {
		select {
		case <-stop:
			close(ping)
			for range pong {
			}
			return
		default:
		}
		trace.WithRegion(ctx, "roundtrip", func() {
			ping <- i
			<-pong
		})
		if i%64 == 0 {
			trace.Log(ctx, "tick", "64 round trips")
		}
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: busy OUT.trace SECONDS")
		os.Exit(2)
	}
	secs, err := strconv.ParseFloat(os.Args[2], 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
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
	ctx, task := trace.NewTask(context.Background(), "busy")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go pair(ctx, stop, &wg)
	}
	time.Sleep(time.Duration(secs * float64(time.Second)))
	close(stop)
	wg.Wait()
	task.End()
	trace.Stop()
	out.Close()
}
