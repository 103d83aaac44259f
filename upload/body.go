package upload

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellgate/cellgate/edge"
)

// errBodyDone answers a read after the upload ended: the transport may
// still hold the body after RoundTrip returned, but the server's r.Body
// must not be touched once the handler is done with it.
var errBodyDone = errors.New("upload: body read after the upload ended")

// errStorageIdle is the cancellation cause when storage made no progress
// within the idle timeout.
var errStorageIdle = errors.New("upload: storage made no progress within the idle timeout")

// bodyLimits are the bounds on how slowly a client may send its body.
type bodyLimits struct {
	idle        time.Duration    // the longest wait for one read
	minRate     float64          // bytes a second after grace; 0: no floor
	grace       time.Duration    // from the first read, before the floor applies
	maxDuration time.Duration    // from the first read to the last byte
	now         func() time.Time // the clock of minRate, grace and maxDuration
}

// body is the outbound PUT's view of the client's request body.
//
// It enforces the idle timeout on both sides: before each read it slides
// the connection's read deadline (a stalled client fails the read), and a
// watchdog cancels the PUT when storage stops asking for bytes or does not
// answer. It enforces the rate floor and the duration cap on the client:
// the read deadline is the nearest of the three limits, and each read's
// end is checked against the clock. Close does nothing, because the server
// owns r.Body; finish makes sure no read is in flight, or can start, once
// the handler returns.
//
// The rate floor is a credit of grace × minRate bytes: once the grace
// period is over it drains at minRate bytes a second while a read waits on
// the client, each byte received refills it (never above grace × minRate),
// and the upload is cut when it runs dry. A client must therefore keep up
// minRate on average, and bytes sent early count for at most grace ahead.
type body struct {
	src       io.Reader
	rc        *http.ResponseController
	lim       bodyLimits
	size      int64
	deadlines bool        // the connection supports read deadlines; set once
	watchdog  *time.Timer // cancels the PUT when storage stalls

	closed    atomic.Bool
	reading   atomic.Bool
	readSince atomic.Int64 // when the read in flight started (UnixNano); 0 when none
	mu        sync.Mutex   // held by Read; finish takes it to wait for a read in flight
	n         int64        // bytes read; under mu
	err       error        // the first read error from the client; under mu
	start     time.Time    // the first read, by lim.now; under mu
	credit    float64      // bytes of the rate floor's credit; under mu
}

func newBody(src io.Reader, w http.ResponseWriter, size int64, lim bodyLimits, watchdog *time.Timer) *body {
	b := &body{src: src, rc: http.NewResponseController(w), lim: lim, size: size, watchdog: watchdog}
	// A writer without deadlines (ErrNotSupported: an in-process binding,
	// a test recorder) leaves the watchdog to guard both sides.
	b.deadlines = b.rc.SetReadDeadline(time.Now().Add(lim.idle)) == nil
	return b
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	start := b.lim.now()
	if b.start.IsZero() {
		// The clock starts at the first read: when storage asked for the
		// body, not while FUS or storage kept the client waiting.
		b.start, b.credit = start, b.lim.minRate*b.lim.grace.Seconds()
	}
	wait, limit := b.wait(start)
	if wait <= 0 {
		return 0, b.fail(limit.WithCause(errors.New("upload: limit reached before the read")))
	}
	// While waiting on the client the read deadline applies, not the
	// storage watchdog; without deadlines the watchdog guards both sides.
	if b.deadlines {
		b.watchdog.Stop()
		_ = b.rc.SetReadDeadline(time.Now().Add(wait))
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
	b.watchdog.Reset(b.lim.idle)
	b.n += int64(n)
	if b.closed.Load() && err != nil {
		// finish cut this read short (storage answered or failed): the
		// client is not to blame for it.
		return n, errBodyDone
	}
	var ne interface{ Timeout() bool }
	switch {
	case err != nil && err != io.EOF && errors.As(err, &ne) && ne.Timeout():
		// The deadline that fired is the limit that set it.
		return n, b.fail(limit.WithCause(fmt.Errorf("upload: reading the client's body: %w", err)))
	case b.n < b.size && err == nil:
		if p := b.account(start, b.lim.now(), n); p != nil {
			return n, b.fail(p)
		}
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
		b.err = err
	}
	return n, err
}

// fail records p as the client's fault and returns it. The read deadline
// is left expired: the server's drain of the unread body then fails at
// once and the connection is closed after the answer, rather than the
// server waiting on the client that was just cut off. Under mu.
func (b *body) fail(p *edge.Problem) error {
	b.err = p
	if b.deadlines {
		_ = b.rc.SetReadDeadline(time.Now())
	}
	return p
}

// wait returns how long a read starting at now may wait for a byte, and
// the problem that answers a read that waits longer: the idle timeout, the
// rate floor's credit or the duration cap, whichever ends first. Under mu.
func (b *body) wait(now time.Time) (time.Duration, *edge.Problem) {
	wait, limit := b.lim.idle, ErrUploadTimeout
	if b.lim.minRate > 0 {
		left := time.Duration(b.credit / b.lim.minRate * float64(time.Second))
		if graceEnd := b.start.Add(b.lim.grace); now.Before(graceEnd) {
			left += graceEnd.Sub(now)
		}
		if left < wait {
			wait, limit = left, ErrUploadTooSlow
		}
	}
	if left := b.start.Add(b.lim.maxDuration).Sub(now); left < wait {
		wait, limit = left, ErrUploadTooLong
	}
	return wait, limit
}

// account checks the duration cap at end, and charges the rate floor's
// credit for the read that waited on the client from start to end, then
// adds its n bytes. Only time spent waiting on the client drains the
// credit: while the transport writes to storage (a slow storage pushing
// back), the client is not being read and is not to blame. Under mu.
func (b *body) account(start, end time.Time, n int) *edge.Problem {
	if end.Sub(b.start) > b.lim.maxDuration {
		return ErrUploadTooLong.WithCause(fmt.Errorf("upload: %d of %d bytes after %v", b.n, b.size, end.Sub(b.start)))
	}
	if b.lim.minRate <= 0 {
		return nil
	}
	if from := maxTime(start, b.start.Add(b.lim.grace)); end.After(from) {
		b.credit -= b.lim.minRate * end.Sub(from).Seconds()
	}
	if b.credit < 0 {
		return ErrUploadTooSlow.WithCause(fmt.Errorf("upload: %d of %d bytes after %v, below %.0f bytes/s",
			b.n, b.size, end.Sub(b.start), b.lim.minRate))
	}
	b.credit = min(b.credit+float64(n), b.lim.minRate*b.lim.grace.Seconds())
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
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
