// Package heapwatch measures, for tests, how far the heap in use grows
// while something runs: the proof that a stream is never buffered whole.
package heapwatch

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Start collects garbage, notes the heap in use, and samples it every
// 20 ms until the returned stop is called; stop returns the peak growth
// over the start in bytes (negative if the heap only shrank).
func Start() (stop func() (growth int64)) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	peak.Store(base)
	done, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-sampled
		return int64(peak.Load()) - int64(base)
	}
}
