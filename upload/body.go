package upload

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// errBodyDone answers a read after the upload ended: the transport may
// still hold the body after RoundTrip returned, but the server's r.Body
// must not be touched once the handler is done with it.
var errBodyDone = errors.New("upload: body read after the upload ended")

// errStorageIdle is the cancellation cause when storage made no progress
// within the idle timeout.
var errStorageIdle = errors.New("upload: storage made no progress within the idle timeout")

// body is the outbound PUT's view of the client's request body.
//
// It enforces the idle timeout on both sides: before each read it slides
// the connection's read deadline (a stalled client fails the read), and a
// watchdog cancels the PUT when storage stops asking for bytes or does not
// answer. Close does nothing, because the server owns r.Body; finish makes
// sure no read is in flight, or can start, once the handler returns.
type body struct {
	src       io.Reader
	rc        *http.ResponseController
	idle      time.Duration
	size      int64
	deadlines bool        // the connection supports read deadlines; set once
	watchdog  *time.Timer // cancels the PUT when storage stalls

	closed    atomic.Bool
	reading   atomic.Bool
	readSince atomic.Int64 // when the read in flight started (UnixNano); 0 when none
	mu        sync.Mutex   // held by Read; finish takes it to wait for a read in flight
	n         int64        // bytes read; under mu
	err       error        // the first read error from the client; under mu
}

func newBody(src io.Reader, w http.ResponseWriter, size int64, idle time.Duration, watchdog *time.Timer) *body {
	b := &body{src: src, rc: http.NewResponseController(w), idle: idle, size: size, watchdog: watchdog}
	// A writer without deadlines (ErrNotSupported: an in-process binding,
	// a test recorder) leaves the watchdog to guard both sides.
	b.deadlines = b.rc.SetReadDeadline(time.Now().Add(idle)) == nil
	return b
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// While waiting on the client the read deadline applies, not the
	// storage watchdog; without deadlines the watchdog guards both sides.
	if b.deadlines {
		b.watchdog.Stop()
		_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	}
	// Announce the read before checking closed, and finish sets closed
	// before checking reading: one of the two always sees the other.
	b.readSince.Store(time.Now().UnixNano())
	b.reading.Store(true)
	if b.closed.Load() {
		b.reading.Store(false)
		return 0, errBodyDone
	}
	n, err := b.src.Read(p)
	b.reading.Store(false)
	b.readSince.Store(0)
	b.watchdog.Reset(b.idle)
	b.n += int64(n)
	switch {
	case err == nil && b.n < b.size:
	case err == nil || err == io.EOF:
		if b.n < b.size {
			err = io.ErrUnexpectedEOF
			b.err = err
			break
		}
		err = io.EOF
		// The body is in: no more reads, so lift the deadline before it
		// can fire under the server's own background read of the conn.
		if b.deadlines {
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	default:
		if b.err == nil {
			b.err = err
		}
	}
	return n, err
}

// Close leaves r.Body to the server, like httputil.ReverseProxy's no-op
// closer: the transport closes what it is given, possibly after RoundTrip
// returned.
func (b *body) Close() error { return nil }

// clientStall is how long a read must have waited on the client, when
// storage answers, for the short body to be the client's fault: storage
// that gives up on an idle client (MinIO's own idle timeout) answers while
// cellgate still waits for the client's next bytes.
const clientStall = 250 * time.Millisecond

// finish ends the body's life: a read blocked on the client is cut short,
// and every later read fails. It returns the bytes read, the client's read
// error, if any, and whether a read had been waiting on the client for
// [clientStall] or more when finish was called.
func (b *body) finish() (n int64, stalled bool, err error) {
	since := b.readSince.Load()
	stalled = since != 0 && time.Since(time.Unix(0, since)) >= clientStall
	b.closed.Store(true)
	if b.reading.Load() && b.deadlines {
		_ = b.rc.SetReadDeadline(time.Now())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n, stalled, b.err
}
