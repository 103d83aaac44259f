// Package redissub keeps one Redis pub/sub subscription alive for cellgate's
// notice channels (revocations, directory changes): it reconnects with a
// growing back-off while Redis is unreachable, pings the subscription
// connection at a fixed interval (the heartbeat) and replaces one that no
// longer answers, tells its owner after every confirmed (re)subscription,
// since notices sent meanwhile are lost, and says as of when every notice
// published has been heard (ProvenAt), so a cache fed by notices knows
// how far it may trust them. Seal and Opener sign and verify notices.
package redissub

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
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

// Config says how a Subscriber listens.
type Config struct {
	// Channel is the pub/sub channel.
	Channel string
	// Heartbeat is how often the subscription connection is pinged,
	// whatever its traffic: each pong proves the path notices come
	// through as of when its ping was sent. Positive.
	Heartbeat time.Duration
	// Renew is how long a ping may go unanswered before the connection is
	// taken for dead and replaced. Positive.
	Renew time.Duration
	// Now is the clock of ProvenAt; time.Now when nil.
	Now func() time.Time
}

// Subscriber listens on one channel until Close.
type Subscriber struct {
	c   redis.UniversalClient
	cfg Config
	h   Handler

	proven atomic.Pointer[time.Time] // ProvenAt; nil before the first subscription

	mu   sync.Mutex
	ps   *redis.PubSub
	stop context.CancelFunc
	done chan struct{}
}

// Start subscribes to cfg.Channel through c and calls h from one goroutine
// until Close.
func Start(c redis.UniversalClient, cfg Config, h Handler) *Subscriber {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Subscriber{c: c, cfg: cfg, h: h, stop: stop, done: make(chan struct{})}
	s.ps = c.Subscribe(ctx) // no channel yet: it connects in listen
	go s.listen(ctx)
	return s
}

// ProvenAt returns the latest instant (on the Config's clock) as of which
// every message published on the channel has been handed to
// Handler.Message, or to Handler.Subscribed, which stands for those missed:
// the send time of the last ping whose pong came back (Redis answers a
// PING on the subscribed connection after every message published before
// it), or the time of the last confirmed subscription. Zero before the
// first subscription.
func (s *Subscriber) ProvenAt() time.Time {
	if t := s.proven.Load(); t != nil {
		return *t
	}
	return time.Time{}
}

// prove moves ProvenAt forward to t (kept as read from the clock, so a
// time.Now reading keeps its monotonic part).
func (s *Subscriber) prove(t time.Time) {
	for {
		old := s.proven.Load()
		if old != nil && !t.After(*old) {
			return
		}
		if s.proven.CompareAndSwap(old, &t) {
			return
		}
	}
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

// ping is one heartbeat awaiting its pong.
type ping struct {
	seq    uint64
	sent   time.Time // on the Config's clock: what its pong proves
	sentRT time.Time // real time: when to give up on the connection
}

func (s *Subscriber) listen(ctx context.Context) {
	defer close(s.done)
	ps := s.ps
	defer func() { _ = ps.Close() }() // the last one, if renewed
	// On failure the channel is remembered anyway: the next receive
	// connects and subscribes.
	_ = ps.Subscribe(ctx, s.cfg.Channel)
	backoff := minBackoff
	var (
		seq      uint64
		pending  []ping // sent, unanswered, oldest first
		nextPing = time.Now()
	)
	for {
		if now := time.Now(); !now.Before(nextPing) {
			if len(pending) > 0 && now.Sub(pending[0].sentRT) >= s.cfg.Renew {
				// Not even a pong came back: the connection is dead
				// without knowing it. Start a new one.
				ps = s.renew(ctx, ps)
				pending = pending[:0]
			}
			seq++
			sent := s.cfg.Now()
			if s.sendPing(ctx, ps, seq) == nil {
				pending = append(pending, ping{seq: seq, sent: sent, sentRT: now})
			}
			nextPing = now.Add(s.cfg.Heartbeat)
		}
		msg, err := ps.ReceiveTimeout(ctx, max(time.Until(nextPing), time.Millisecond))
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue // time for the next ping
			}
			// Redis is unreachable: wait a little, growing, before the
			// next attempt, so an outage costs no busy loop. Pings sent
			// on the lost connection will never be answered.
			pending = pending[:0]
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				s.h.Subscribed()
				s.prove(s.cfg.Now())
			}
		case *redis.Message:
			s.h.Message(m.Payload)
		case *redis.Pong:
			pending = s.answered(pending, m.Payload)
		}
	}
}

// sendPing writes one PING carrying seq on the subscription connection,
// waiting no longer than a heartbeat.
func (s *Subscriber) sendPing(ctx context.Context, ps *redis.PubSub, seq uint64) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Heartbeat)
	defer cancel()
	return ps.Ping(ctx, strconv.FormatUint(seq, 10))
}

// answered records the pong carrying payload: the path is proven as of
// when its ping was sent. Pongs come in order, so every earlier ping is
// answered too.
func (s *Subscriber) answered(pending []ping, payload string) []ping {
	seq, err := strconv.ParseUint(payload, 10, 64)
	if err != nil {
		return pending
	}
	for i, p := range pending {
		if p.seq == seq {
			s.prove(p.sent)
			return append(pending[:0], pending[i+1:]...)
		}
	}
	return pending
}

// renew replaces the subscription connection old with a new one.
func (s *Subscriber) renew(ctx context.Context, old *redis.PubSub) *redis.PubSub {
	_ = old.Close()
	ps := s.c.Subscribe(ctx)
	s.mu.Lock()
	s.ps = ps
	s.mu.Unlock()
	_ = ps.Subscribe(ctx, s.cfg.Channel) // as in listen: remembered on failure
	return ps
}
