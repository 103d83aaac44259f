package passport

import (
	"slices"
	"sync"
)

// notifier fans revocations out to in-process subscribers.
type notifier struct {
	mu   sync.Mutex
	next int
	subs map[int]func(Revocation)
}

func (n *notifier) Subscribe(fn func(Revocation)) (cancel func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.subs == nil {
		n.subs = make(map[int]func(Revocation))
	}
	id := n.next
	n.next++
	n.subs[id] = fn
	return func() {
		n.mu.Lock()
		delete(n.subs, id)
		n.mu.Unlock()
	}
}

func (n *notifier) notify(r Revocation) {
	n.mu.Lock()
	fns := make([]func(Revocation), 0, len(n.subs))
	for _, fn := range n.subs {
		fns = append(fns, fn)
	}
	n.mu.Unlock()
	// Called without the lock, so a subscriber may subscribe or cancel.
	for _, fn := range fns {
		fn(r)
	}
}

// NoticeHealth is implemented by a Store whose revocation notices cross
// processes and can be cut off (redisstore.Store): it says whether its
// notice path is proven alive, so a cache fed by the notices knows whether
// it may trust itself. A Store that does not implement it (MemoryStore,
// whose notices are calls within the process) counts as always fresh.
type NoticeHealth interface {
	// NoticesFresh reports whether every revocation announced more than
	// the store's bound ago (redisstore: WithNoticeBound, one second by
	// default) has been delivered to the subscribers. It must be fast: a
	// Gateway asks on every cache hit.
	NoticesFresh() bool
}

// Watch subscribes the gateway to the revocations of store (as
// store.Subscribe(g.Revoked) does) and, when store implements NoticeHealth,
// trusts its cache only while the notice path is fresh: otherwise every
// request asks the authentication service (bounded by WithTimeout), and
// when that fails the request is refused (502 auth_unavailable, or the
// service's own 503 session_store_unavailable), never served from the
// cache. A revocation made on any replica is thus refused
// by this gateway within the store's notice bound, also when this gateway
// is cut off from the store's notices; the price is that a gateway cut off
// from them serves only what the authentication service answers. cancel
// undoes both. Watch may be called for several stores; the cache is
// trusted only while all of them are fresh.
func (g *Gateway) Watch(store Store) (cancel func()) {
	unsubscribe := store.Subscribe(g.Revoked)
	h, ok := store.(NoticeHealth)
	if !ok {
		return unsubscribe
	}
	g.mu.Lock()
	g.health = append(slices.Clip(g.health), h)
	g.mu.Unlock()
	return func() {
		unsubscribe()
		g.mu.Lock()
		defer g.mu.Unlock()
		if i := slices.Index(g.health, h); i >= 0 {
			g.health = slices.Delete(slices.Clone(g.health), i, i+1)
		}
	}
}

// noticesFresh reports whether every notice path the gateway watches is
// fresh; called with g.mu held.
func (g *Gateway) noticesFresh() bool {
	for _, h := range g.health {
		if !h.NoticesFresh() {
			return false
		}
	}
	return true
}
