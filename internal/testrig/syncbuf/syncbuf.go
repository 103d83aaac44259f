// Package syncbuf is a bytes.Buffer that servers' goroutines may write to
// concurrently, for tests that capture logs.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is an in-memory io.Writer safe for concurrent use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
