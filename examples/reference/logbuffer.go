package reference

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// LogBuffer batches what is written to it for an underlying writer, as
// nginx's access_log buffer= and zap's BufferedWriteSyncer do. Unbuffered,
// an access log costs a write system call per request, which at thousands
// of requests a second is more CPU than forming the line. Output reaches
// the writer when the buffer fills, at every tick of the interval, and on
// Flush and Close; what was written since the last tick is lost if the
// process dies without closing it.
//
// A LogBuffer is safe for concurrent use. A write larger than what is left
// of the buffer may reach the writer in two parts, in order.
type LogBuffer struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop func()
	done chan struct{}
	once sync.Once
}

// LogBufferSize is how much a LogBuffer gathers before it writes.
const LogBufferSize = 64 << 10

// NewLogBuffer returns a LogBuffer over w that flushes every interval.
func NewLogBuffer(w io.Writer, interval time.Duration) *LogBuffer {
	t := time.NewTicker(interval)
	return newLogBuffer(w, t.C, t.Stop)
}

// newLogBuffer flushes at every tick, until stop.
func newLogBuffer(w io.Writer, tick <-chan time.Time, stopTicks func()) *LogBuffer {
	b := &LogBuffer{w: bufio.NewWriterSize(w, LogBufferSize), done: make(chan struct{})}
	quit := make(chan struct{})
	b.stop = func() { stopTicks(); close(quit) }
	go func() {
		defer close(b.done)
		for {
			select {
			case <-tick:
				b.Flush()
			case <-quit:
				return
			}
		}
	}()
	return b
}

// Write buffers p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

// Flush writes what is buffered.
func (b *LogBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Flush()
}

// Close stops the ticks and writes what is buffered; later writes are
// still buffered and need a Flush. It does not close the underlying writer.
func (b *LogBuffer) Close() error {
	b.once.Do(b.stop)
	<-b.done
	return b.Flush()
}
