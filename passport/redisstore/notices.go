package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/cellgate/cellgate/passport"
	"github.com/redis/go-redis/v9"
)

// notice is a revocation on the wire: the revocation and the Store that
// made it, so that Store does not deliver it twice.
type notice struct {
	Origin string `json:"origin"`
	passport.Revocation
}

// announce delivers r to this Store's subscribers at once and publishes it
// to every other Store on the channel.
func (st *Store) announce(ctx context.Context, r passport.Revocation) error {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	st.deliver(r)
	r.At = st.now() // for the receivers' lag
	msg, err := json.Marshal(notice{Origin: st.origin, Revocation: r})
	if err != nil {
		return fmt.Errorf("redisstore: publish revocation: %w", err)
	}
	if err := st.c.Publish(ctx, st.channel, msg).Err(); err != nil {
		// Revoked in Redis, but other replicas were not told: their
		// gateways serve cached passports until the cache TTL. Retry.
		return fmt.Errorf("redisstore: publish revocation: %w", err)
	}
	return nil
}

// Subscribe implements passport.Store: fn is called with every revocation
// made through any Store on the same Redis and prefix, this one's at once
// and others' through pub/sub. Whenever the subscription to Redis is
// (re)established, fn gets a Revocation with All set: notices sent while
// it was down are lost, so whatever fn caches must go. The first Subscribe
// starts the one goroutine that listens; Close stops it. fn must not block.
func (st *Store) Subscribe(fn func(passport.Revocation)) (cancel func()) {
	st.mu.Lock()
	defer st.mu.Unlock()
	id := st.next
	st.next++
	st.subs[id] = fn
	if !st.started && !st.closed {
		st.started = true
		ctx, stop := context.WithCancel(context.Background())
		st.stop, st.done = stop, make(chan struct{})
		st.ps = st.c.Subscribe(ctx) // no channel yet: connects in listen
		go st.listen(ctx, st.ps)
	}
	return func() {
		st.mu.Lock()
		delete(st.subs, id)
		st.mu.Unlock()
	}
}

// Close stops listening for notices. It does not close the client.
func (st *Store) Close() error {
	st.mu.Lock()
	st.closed = true
	stop, done, ps := st.stop, st.done, st.ps
	st.mu.Unlock()
	if stop != nil {
		stop()
		_ = ps.Close() // ends a read in progress
		<-done
	}
	return nil
}

func (st *Store) deliver(r passport.Revocation) {
	st.mu.Lock()
	fns := make([]func(passport.Revocation), 0, len(st.subs))
	for _, fn := range st.subs {
		fns = append(fns, fn)
	}
	st.mu.Unlock()
	for _, fn := range fns {
		fn(r)
	}
}

// listen receives notices until ctx ends. go-redis reconnects and
// subscribes again by itself after an error; each confirmed subscription
// delivers All. An idle connection is pinged every ping interval, so a
// silently dead one is noticed and replaced.
func (st *Store) listen(ctx context.Context, ps *redis.PubSub) {
	defer close(st.done)
	defer func() { _ = ps.Close() }() // the last one, if renewed
	// On failure the channel is remembered anyway: the next receive
	// connects and subscribes.
	_ = ps.Subscribe(ctx, st.channel)
	backoff := minBackoff
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, st.ping)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if pinged {
					// Not even the pong came back: the connection is
					// dead without knowing it. Start a new one.
					ps = st.renew(ctx, ps)
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
				st.deliver(passport.Revocation{All: true})
			}
		case *redis.Message:
			var n notice
			if json.Unmarshal([]byte(m.Payload), &n) != nil || n.Origin == st.origin {
				continue
			}
			st.deliver(n.Revocation)
		}
	}
}

// Reconnection backoff of the notice listener.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// renew replaces the subscription connection old with a new one.
func (st *Store) renew(ctx context.Context, old *redis.PubSub) *redis.PubSub {
	_ = old.Close()
	ps := st.c.Subscribe(ctx)
	st.mu.Lock()
	st.ps = ps
	st.mu.Unlock()
	_ = ps.Subscribe(ctx, st.channel) // as in listen: remembered on failure
	return ps
}
