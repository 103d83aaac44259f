// Package redissub keeps one Redis pub/sub subscription alive for cellgate's
// notice channels (revocations, directory changes): it reconnects with a
// growing back-off while Redis is unreachable, pings an idle connection and
// replaces one that no longer answers, and tells its owner after every
// confirmed (re)subscription, since notices sent meanwhile are lost.
package redissub

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Reconnection back-off while Redis is unreachable.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// Handler receives what a Subscriber hears.
type Handler struct {
	// Subscribed runs after every confirmed (re)subscription: whatever
	// was cached from notices must go, as some may have been missed.
	Subscribed func()
	// Message runs for every message's payload.
	Message func(payload string)
}

// Subscriber listens on one channel until Close.
type Subscriber struct {
	c       redis.UniversalClient
	channel string
	ping    time.Duration
	h       Handler

	mu   sync.Mutex
	ps   *redis.PubSub
	stop context.CancelFunc
	done chan struct{}
}

// Start subscribes to channel through c and calls h from one goroutine
// until Close. An idle connection is pinged every ping; one whose pong does
// not come back within another ping is replaced.
func Start(c redis.UniversalClient, channel string, ping time.Duration, h Handler) *Subscriber {
	ctx, stop := context.WithCancel(context.Background())
	s := &Subscriber{c: c, channel: channel, ping: ping, h: h, stop: stop, done: make(chan struct{})}
	s.ps = c.Subscribe(ctx) // no channel yet: it connects in listen
	go s.listen(ctx)
	return s
}

// Close stops listening and waits for the goroutine to end. It does not
// close the client.
func (s *Subscriber) Close() {
	s.stop()
	s.mu.Lock()
	ps := s.ps
	s.mu.Unlock()
	_ = ps.Close() // ends a read in progress
	<-s.done
}

func (s *Subscriber) listen(ctx context.Context) {
	defer close(s.done)
	ps := s.ps
	defer func() { _ = ps.Close() }() // the last one, if renewed
	// On failure the channel is remembered anyway: the next receive
	// connects and subscribes.
	_ = ps.Subscribe(ctx, s.channel)
	backoff := minBackoff
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, s.ping)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if pinged {
					// Not even the pong came back: the connection is
					// dead without knowing it. Start a new one.
					ps = s.renew(ctx, ps)
					pinged = false
					continue
				}
				_ = ps.Ping(ctx) // a failed write makes go-redis reconnect
				pinged = true
				continue
			}
			// Redis is unreachable: wait a little, growing, before the
			// next attempt, so an outage costs no busy loop.
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff, pinged = minBackoff, false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				s.h.Subscribed()
			}
		case *redis.Message:
			s.h.Message(m.Payload)
		}
	}
}

// renew replaces the subscription connection old with a new one.
func (s *Subscriber) renew(ctx context.Context, old *redis.PubSub) *redis.PubSub {
	_ = old.Close()
	ps := s.c.Subscribe(ctx)
	s.mu.Lock()
	s.ps = ps
	s.mu.Unlock()
	_ = ps.Subscribe(ctx, s.channel) // as in listen: remembered on failure
	return ps
}
