package edge

import (
	"io"
	"sync"
	"time"
)

// headerClock is the time a [headerTimeout] runs on.
type headerClock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) interface{ Stop() bool }
}

// realClock is the headerClock of the process.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) interface{ Stop() bool } {
	return time.AfterFunc(d, f)
}

func (h headerTimeout) timeClock() headerClock {
	if h.clock == nil {
		return realClock{}
	}
	return h.clock
}

// headerWait is the wait for one response header. It counts the upstream's
// silence only, as http.Transport's ResponseHeaderTimeout does by starting
// once the request has been written: while the upstream reads the request
// body it is waiting on the client, so a read in flight holds the wait, and
// the full timeout starts again when the read returns. Once the body has
// been read to its end the wait runs to the timeout. An upstream that stops
// reading the body, or never reads it, and does not answer is as silent:
// through a [Binding] no socket buffer takes the body, so waiting for its
// end would wait for ever.
type headerWait struct {
	clock headerClock
	d     time.Duration
	fire  func() // called once, when the upstream was silent for d

	mu      sync.Mutex
	reading int       // body reads in flight
	last    time.Time // when the wait began or a read returned
	ended   bool      // the body returned an error (io.EOF too): reads no longer count
	timer   interface{ Stop() bool }
	done    bool // the round trip returned: never fire
	fired   bool
}

func startHeaderWait(clock headerClock, d time.Duration, fire func()) *headerWait {
	w := &headerWait{clock: clock, d: d, fire: fire, last: clock.Now()}
	w.mu.Lock() // the timer may be due before it is stored
	w.timer = clock.AfterFunc(d, w.expire)
	w.mu.Unlock()
	return w
}

// expire runs when the timer set for d after the last read, or the start,
// is due. Reads move the start without touching the timer, which sets
// itself again for what is left.
func (w *headerWait) expire() {
	w.mu.Lock()
	w.timer = nil
	if w.done || w.reading > 0 {
		// Done: too late. Reading: the read's return sets the timer.
		w.mu.Unlock()
		return
	}
	if rest := w.last.Add(w.d).Sub(w.clock.Now()); rest > 0 {
		w.timer = w.clock.AfterFunc(rest, w.expire)
		w.mu.Unlock()
		return
	}
	w.done, w.fired = true, true
	w.mu.Unlock()
	w.fire()
}

// beginRead holds the wait during a read of the body; it reports whether
// the read counts (endRead must then follow).
func (w *headerWait) beginRead() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done || w.ended {
		return false
	}
	w.reading++
	return true
}

// endRead starts the full wait again after a read returned with err.
func (w *headerWait) endRead(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reading--
	w.last = w.clock.Now()
	if err != nil {
		w.ended = true
	}
	if !w.done && w.reading == 0 && w.timer == nil {
		w.timer = w.clock.AfterFunc(w.d, w.expire)
	}
}

// stop ends the wait when the round trip returned; it reports false if the
// wait had fired already.
func (w *headerWait) stop() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fired {
		return false
	}
	w.done = true
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	return true
}

// headerWaitBody is the request body as the upstream reads it, telling the
// wait when a read is in flight.
type headerWaitBody struct {
	io.ReadCloser
	wait *headerWait
}

func (b *headerWaitBody) Read(p []byte) (int, error) {
	if !b.wait.beginRead() {
		return b.ReadCloser.Read(p)
	}
	n, err := b.ReadCloser.Read(p)
	b.wait.endRead(err)
	return n, err
}
