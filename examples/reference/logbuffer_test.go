package reference

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"
)

// signalWriter records what reaches it and signals each write.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestLogBuffer(t *testing.T) {
	w := &signalWriter{wrote: make(chan struct{}, 1)}
	tick := make(chan time.Time)
	stopped := false
	b := newLogBuffer(w, tick, func() { stopped = true })

	fmt.Fprintln(b, `{"msg":"request","n":1}`)
	fmt.Fprintln(b, `{"msg":"request","n":2}`)
	if got := w.String(); got != "" {
		t.Fatalf("written before a tick: %q", got)
	}
	tick <- time.Now()
	<-w.wrote
	if got, want := w.String(), "{\"msg\":\"request\",\"n\":1}\n{\"msg\":\"request\",\"n\":2}\n"; got != want {
		t.Fatalf("after a tick: %q, want %q", got, want)
	}

	// A full buffer is written without waiting for a tick.
	line := bytes.Repeat([]byte("x"), 1023)
	line = append(line, '\n')
	for range LogBufferSize/len(line) + 1 {
		b.Write(line)
	}
	<-w.wrote
	if got := len(w.String()); got < LogBufferSize {
		t.Fatalf("a full buffer wrote %d bytes, want at least %d", got, LogBufferSize)
	}

	fmt.Fprintln(b, "last")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !stopped {
		t.Error("Close did not stop the ticker")
	}
	if got := w.String(); !bytes.HasSuffix([]byte(got), []byte("\nlast\n")) {
		t.Errorf("Close did not write the rest: ends %q", got[len(got)-10:])
	}
	if err := b.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

// Lines written from many goroutines arrive whole.
func TestLogBufferConcurrentWriters(t *testing.T) {
	w := &signalWriter{wrote: make(chan struct{}, 1)}
	b := newLogBuffer(w, nil, func() {})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(b, "goroutine %d line %d\n", g, i)
			}
		})
	}
	wg.Wait()
	b.Close()
	lines := bytes.Split(bytes.TrimSuffix([]byte(w.String()), []byte("\n")), []byte("\n"))
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	for _, l := range lines {
		var g, i int
		if n, err := fmt.Sscanf(string(l), "goroutine %d line %d", &g, &i); n != 2 || err != nil {
			t.Fatalf("torn line %q", l)
		}
	}
}
