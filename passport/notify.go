package passport

import "sync"

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
