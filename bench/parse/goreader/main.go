// bench/parse/goreader/main.go: Go 1.22's trace reader alone
// (internal/trace/v2.Reader), reading every event of the trace on stdin and
// printing the count: the fair "reader only" counterpart of bench_parse.
// internal/... can only be imported from inside GOROOT/src, so run.sh builds
// this file with `go build -overlay` as if it lived in
// $GOROOT/src/internal/trace/v2/testdata/cmd/gotraceread (nothing is written
// to GOROOT).
package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"os"

	"internal/trace/v2"
)

func main() {
	r, err := trace.NewReader(bufio.NewReaderSize(os.Stdin, 1<<20))
	if err != nil {
		log.Fatal(err)
	}
	n := 0
	var last trace.Time
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		n++
		last = ev.Time()
		_ = ev.Kind()
	}
	fmt.Printf("events=%d last=%d\n", n, last)
}
