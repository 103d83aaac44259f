// Package noticeset holds the notice sources a cache relies on
// (zone.CachingDirectory, zone/cache.Cache): a cache is trusted only while
// every source it requires reports its notices fresh. The set is read
// lock-free on every lookup and changed under a lock.
package noticeset

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Health is a source of notices that can be cut off
// (zone.NoticeHealth, passport.NoticeHealth).
type Health interface{ NoticesFresh() bool }

// Set is a set of notice sources; the zero Set is empty and ready.
type Set struct {
	mu   sync.Mutex // serialises Require and its cancels
	list atomic.Pointer[[]Health]
}

// Require adds h to the set until cancel is called.
func (s *Set) Require(h Health) (cancel func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var old []Health
	if p := s.list.Load(); p != nil {
		old = *p
	}
	with := append(slices.Clip(old), h)
	s.list.Store(&with)
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		cur := *s.list.Load()
		if i := slices.Index(cur, h); i >= 0 {
			without := slices.Delete(slices.Clone(cur), i, i+1)
			s.list.Store(&without)
		}
	}
}

// Fresh reports whether every source in the set is fresh (true for none).
func (s *Set) Fresh() bool {
	p := s.list.Load()
	if p == nil {
		return true
	}
	for _, h := range *p {
		if !h.NoticesFresh() {
			return false
		}
	}
	return true
}
