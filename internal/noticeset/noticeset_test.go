package noticeset

import "testing"

type health struct{ fresh bool }

func (h *health) NoticesFresh() bool { return h.fresh }

func TestSet(t *testing.T) {
	var s Set
	if !s.Fresh() {
		t.Fatal("an empty set is not fresh")
	}
	a, b := &health{true}, &health{false}
	cancelA := s.Require(a)
	cancelB := s.Require(b)
	if s.Fresh() {
		t.Fatal("fresh with a stale source")
	}
	cancelB()
	if !s.Fresh() {
		t.Fatal("stale after the stale source was cancelled")
	}
	b.fresh, a.fresh = true, false
	if s.Fresh() {
		t.Fatal("fresh with a stale source left")
	}
	cancelA()
	cancelA() // twice is harmless
	if !s.Fresh() {
		t.Fatal("stale with no source")
	}
}
