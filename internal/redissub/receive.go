package redissub

import (
	"context"
	"errors"
	"github.com/cellgate/cellgate/internal/bounded"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Reader turns the payloads a Subscriber hears into notice bodies and
// counts what became of them. With an Opener (a key is set) only sealed
// notices that verify pass; without one, a sealed notice is read without
// verifying and anything else is the body itself.
type Reader struct {
	opener *Opener // nil: no key

	delivered, unsigned, forged, replayed, malformed atomic.Uint64
}

// NewReader returns a Reader that verifies with o, or none when o is nil.
func NewReader(o *Opener) *Reader { return &Reader{opener: o} }

// Counts are a Reader's counters.
type Counts struct {
	Delivered, Unsigned, Forged, Replayed, Malformed uint64
}

// Read returns payload's body and its sealed time (zero if unsealed), or
// ok false when it must be dropped (it is counted).
func (r *Reader) Read(payload string) (body string, at time.Time, ok bool) {
	if r.opener == nil {
		if body, at, ok := Unseal(payload); ok {
			return body, at, true
		}
		return payload, time.Time{}, true
	}
	body, at, err := r.opener.Open(payload)
	switch {
	case errors.Is(err, ErrUnsigned):
		r.unsigned.Add(1)
	case errors.Is(err, ErrBadMAC):
		r.forged.Add(1)
	case errors.Is(err, ErrReplayed):
		r.replayed.Add(1)
	case err != nil:
		r.malformed.Add(1)
	default:
		return body, at, true
	}
	return "", time.Time{}, false
}

// Delivered counts a notice handed to the receiver's subscribers.
func (r *Reader) Delivered() { r.delivered.Add(1) }

// Malformed counts a notice dropped for what its body says.
func (r *Reader) Malformed() { r.malformed.Add(1) }

// Counts returns the counters so far.
func (r *Reader) Counts() Counts {
	return Counts{
		Delivered: r.delivered.Load(), Unsigned: r.unsigned.Load(), Forged: r.forged.Load(),
		Replayed: r.replayed.Load(), Malformed: r.malformed.Load(),
	}
}

// Publish publishes msg on channel through c and returns within timeout
// whatever the client's own timeouts (internal/bounded): the call goes on
// in the background until the client gives up.
func Publish(ctx context.Context, c redis.UniversalClient, channel, msg string, timeout time.Duration) error {
	return bounded.Do(ctx, timeout, func(ctx context.Context) error { return c.Publish(ctx, channel, msg).Err() })
}
