package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cellgate/cellgate/internal/redissub"

	"github.com/cellgate/cellgate/passport"
)

// notice is a revocation on the wire: the revocation and the Store that
// made it, so that Store does not deliver it twice. With WithNoticeKey it
// travels sealed (signed and stamped, see internal/redissub).
type notice struct {
	Origin string `json:"origin"`
	passport.Revocation
}

// minNoticeKey is the shortest key WithNoticeKey takes, as hmacsig's.
const minNoticeKey = 32

// noticeConfig is what the options say about notices.
type noticeConfig struct {
	bound  time.Duration // how stale the notice path may be
	key    []byte        // nil: unsigned notices
	maxAge time.Duration // of a signed notice
}

// noticeState is a Store's notice path: its configuration, the reader
// that verifies and counts, and the subscriber once listening.
type noticeState struct {
	noticeConfig
	reader *redissub.Reader
	sub    atomic.Pointer[redissub.Subscriber]
}

func newNoticeState(c noticeConfig, channel string, now func() time.Time) *noticeState {
	var o *redissub.Opener
	if c.key != nil {
		o = redissub.NewOpener(c.key, channel, c.maxAge, now)
	}
	return &noticeState{noticeConfig: c, reader: redissub.NewReader(o)}
}

// NoticeStats count the notices a Store heard from other Stores, by what
// became of them.
type NoticeStats struct {
	Delivered uint64 // handed to the subscribers
	Unsigned  uint64 // dropped: not signed, while WithNoticeKey is set
	Forged    uint64 // dropped: the signature does not verify
	Replayed  uint64 // dropped: older than maxAge, from the future, or seen before
	Malformed uint64 // dropped: not one revocation (bad JSON, no field or several, All)
}

// NoticeStats returns the counters so far.
func (st *Store) NoticeStats() NoticeStats {
	c := st.notices.reader.Counts()
	return NoticeStats{Delivered: c.Delivered, Unsigned: c.Unsigned, Forged: c.Forged, Replayed: c.Replayed, Malformed: c.Malformed}
}

// announce delivers r to this Store's subscribers at once and publishes it
// to every other Store on the channel.
func (st *Store) announce(ctx context.Context, r passport.Revocation) error {
	st.deliver(r)
	r.At = st.now() // for the receivers' lag
	b, err := json.Marshal(notice{Origin: st.origin, Revocation: r})
	if err != nil {
		return fmt.Errorf("redisstore: publish revocation: %w", err)
	}
	msg := string(b)
	if st.notices.key != nil {
		msg = redissub.Seal(st.notices.key, st.channel, r.At, msg)
	}
	if err := redissub.Publish(ctx, st.c, st.channel, msg, st.timeout); err != nil {
		// Revoked in Redis, but other replicas were not told: their
		// gateways serve cached passports until the notice bound (when
		// they watch the Store) or the cache TTL. Retry.
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
		st.sub = redissub.Start(st.c, redissub.Config{
			Channel: st.channel, Heartbeat: st.notices.bound / 4, Renew: st.ping, Now: st.now,
		}, redissub.Handler{
			Subscribed: func() { st.deliver(passport.Revocation{All: true}) },
			Message:    st.received,
		})
		st.notices.sub.Store(st.sub)
	}
	return func() {
		st.mu.Lock()
		delete(st.subs, id)
		st.mu.Unlock()
	}
}

// NoticesFresh implements passport.NoticeHealth: it reports whether every
// revocation published on the channel up to WithNoticeBound ago (one
// second by default) has been delivered to the subscribers, as proven by
// the heartbeat on the subscription connection. It is false before the
// first Subscribe has subscribed, after Close, and whenever the
// subscription connection is cut, black-holed or too slow.
func (st *Store) NoticesFresh() bool {
	sub := st.notices.sub.Load()
	if sub == nil {
		return false
	}
	at := sub.ProvenAt()
	return !at.IsZero() && st.now().Sub(at) <= st.notices.bound
}

// Close stops listening for notices. It does not close the client.
// Gateways still watching the Store stop trusting their caches
// (NoticesFresh is false from then on): cancel each Watch first.
func (st *Store) Close() error {
	st.mu.Lock()
	st.closed = true
	sub := st.sub
	st.mu.Unlock()
	if sub != nil {
		st.notices.sub.Store(nil)
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

// received delivers a notice another Store published, once it has passed
// the reader (verified, with WithNoticeKey) and names exactly one thing
// revoked. A notice with All set is dropped: no Store publishes one (All
// is what a subscriber is told locally after a reconnection).
func (st *Store) received(payload string) {
	body, at, ok := st.notices.reader.Read(payload)
	if !ok {
		return
	}
	var n notice
	if json.Unmarshal([]byte(body), &n) != nil || !single(n.Revocation) {
		st.notices.reader.Malformed()
		return
	}
	if n.Origin == st.origin {
		return
	}
	if !at.IsZero() {
		n.At = at // the signed time
	}
	st.notices.reader.Delivered()
	st.deliver(n.Revocation)
}

// single reports whether r names exactly one session, user or company.
func single(r passport.Revocation) bool {
	n := 0
	for _, f := range []string{r.SessionID, r.User, r.Company} {
		if f != "" {
			n++
		}
	}
	return n == 1 && !r.All
}

var _ passport.NoticeHealth = (*Store)(nil)
