package redisstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cellgate/cellgate/internal/redissub"

	"github.com/cellgate/cellgate/passport"
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
	if st.sub == nil && !st.closed {
		st.sub = redissub.Start(st.c, st.channel, st.ping, redissub.Handler{
			Subscribed: func() { st.deliver(passport.Revocation{All: true}) },
			Message:    st.received,
		})
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
	sub := st.sub
	st.mu.Unlock()
	if sub != nil {
		sub.Close()
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

// received delivers a notice another Store published.
func (st *Store) received(payload string) {
	var n notice
	if json.Unmarshal([]byte(payload), &n) != nil || n.Origin == st.origin {
		return
	}
	st.deliver(n.Revocation)
}
