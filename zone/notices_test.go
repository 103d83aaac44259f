package zone

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// freshness is a NoticeHealth that a test switches.
type freshness struct{ stale atomic.Bool }

func (f *freshness) NoticesFresh() bool { return !f.stale.Load() }

// While the notices it requires are not fresh, a CachingDirectory asks the
// directory on every lookup of a cached zone and serves its answer; a
// failing directory falls back to the cached zone within WithStaleIfError;
// fresh again (or cancelled), the cache serves.
func TestCachingDirectoryRequireNotices(t *testing.T) {
	clk := newFakeClock()
	us01, us02 := Zone{Name: "us01", WebBaseURL: "https://us01.test"}, Zone{Name: "us02", WebBaseURL: "https://us02.test"}
	var current atomic.Pointer[Zone]
	current.Store(&us01)
	var down atomic.Bool
	dir := &countingDirectory{fn: func(context.Context, string) (Zone, error) {
		if down.Load() {
			return Zone{}, errors.New("directory down")
		}
		return *current.Load(), nil
	}}
	c, err := NewCachingDirectory(dir, WithClock(clk.Now), WithTTL(time.Hour), WithStaleIfError(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	h := &freshness{}
	cancel := c.RequireNotices(h)
	lookup := func() Zone {
		t.Helper()
		z, err := c.Lookup(context.Background(), "42")
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	lookup()
	lookup()
	if n := dir.calls.Load(); n != 1 {
		t.Fatalf("fresh: %d directory calls, want 1", n)
	}

	current.Store(&us02) // moved; the notice is lost
	h.stale.Store(true)
	if z := lookup(); z != us02 {
		t.Fatalf("stale notices: %s, want the directory's us02", z.Name)
	}
	lookup()
	if n := dir.calls.Load(); n != 3 {
		t.Fatalf("stale notices: %d directory calls, want one per lookup (3)", n)
	}
	down.Store(true)
	if z := lookup(); z != us02 {
		t.Fatalf("stale notices, directory down: %s, want the cached us02", z.Name)
	}
	clk.Advance(2 * time.Hour)
	if _, err := c.Lookup(context.Background(), "42"); err == nil {
		t.Fatal("stale notices, directory down, past WithStaleIfError: served anyway")
	}

	down.Store(false)
	h.stale.Store(false)
	lookup()
	calls := dir.calls.Load()
	cancel()
	h.stale.Store(true)
	lookup()
	if n := dir.calls.Load(); n != calls {
		t.Fatalf("after cancel: %d directory calls, want %d (the cache is trusted)", n, calls)
	}
}
