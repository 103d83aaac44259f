package zone

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
)

func newTestCache(t *testing.T, dir Directory, clock *fakeclock.Clock, opts ...CacheOption) *CachingDirectory {
	t.Helper()
	c, err := NewCachingDirectory(dir, append([]CacheOption{WithClock(clock.Now), WithTTL(time.Minute),
		WithStaleWhileRevalidate(10 * time.Second), WithStaleIfError(time.Hour), WithNegativeTTL(5 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCachingDirectoryThousandMissesOneCall(t *testing.T) {
	const n = 1000
	release := make(chan struct{})
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) {
		<-release
		return us01, nil
	}}
	c := newTestCache(t, dir, newFakeClock())
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	errs := make(chan error, n)
	for range n {
		go func() {
			defer done.Done()
			started.Done()
			z, err := c.Lookup(context.Background(), "42")
			if err == nil && z != us01 {
				err = fmt.Errorf("zone %v", z)
			}
			errs <- err
		}()
	}
	started.Wait()
	close(release)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := dir.calls.Load(); got != 1 {
		t.Fatalf("upstream calls = %d, want 1", got)
	}
	if s := c.Stats(); s.Hits+s.Misses != n {
		t.Fatalf("hits %d + misses %d != %d", s.Hits, s.Misses, n)
	}
}

func TestCachingDirectoryWaiterGivesUpCallGoesOn(t *testing.T) {
	release := make(chan struct{})
	upstreamCtx := make(chan context.Context, 1)
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) {
		upstreamCtx <- ctx
		<-release
		return us02, ctx.Err()
	}}
	c := newTestCache(t, dir, newFakeClock(), WithLookupTimeout(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error)
	go func() {
		_, err := c.Lookup(ctx, "7")
		result <- err
	}()
	shared := <-upstreamCtx
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiter err = %v, want context.Canceled", err)
	}
	if shared.Err() != nil {
		t.Fatal("the shared call was cancelled with the waiter")
	}
	if _, ok := shared.Deadline(); !ok {
		t.Fatal("the shared call has no timeout of its own")
	}
	close(release)
	// A later caller joins the same flight or reads what it stored.
	z, err := c.Lookup(context.Background(), "7")
	if err != nil || z != us02 {
		t.Fatalf("Lookup = %v, %v", z, err)
	}
	if got := dir.calls.Load(); got != 1 {
		t.Fatalf("upstream calls = %d, want 1", got)
	}
}

func TestCachingDirectoryExpiry(t *testing.T) {
	clock := newFakeClock()
	current := us01
	fail := false
	var gate chan struct{} // when set, upstream calls wait for it
	var mu sync.Mutex
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) {
		mu.Lock()
		g := gate
		mu.Unlock()
		if g != nil {
			<-g
		}
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return Zone{}, errors.New("directory down")
		}
		return current, nil
	}}
	c := newTestCache(t, dir, clock)
	set := func(z Zone, f bool) { mu.Lock(); current, fail = z, f; mu.Unlock() }
	lookup := func(want Zone) {
		t.Helper()
		z, err := c.Lookup(context.Background(), "1")
		if err != nil || z != want {
			t.Fatalf("Lookup = %v, %v; want %v", z, err, want)
		}
	}

	lookup(us01) // miss
	set(us02, false)
	clock.Advance(59 * time.Second)
	lookup(us01) // fresh hit
	if got := dir.calls.Load(); got != 1 {
		t.Fatalf("calls = %d, want 1", got)
	}

	clock.Advance(2 * time.Second) // stale-while-revalidate window
	g := make(chan struct{})
	mu.Lock()
	gate = g
	mu.Unlock()
	lookup(us01)
	lookup(us01) // still stale, and no second refresh while one runs
	mu.Lock()
	gate = nil
	mu.Unlock()
	close(g)
	c.wg.Wait()
	if got := dir.calls.Load(); got != 2 {
		t.Fatalf("calls after revalidation = %d, want 2", got)
	}
	lookup(us02) // refreshed in the background
	if s := c.Stats(); s.StaleServed != 2 || s.Refreshes != 1 {
		t.Fatalf("stats %+v", s)
	}

	// Past TTL+SWR the old zone is served at once, until the hard maximum
	// age, while the directory is asked in the background.
	set(us01, true)
	clock.Advance(2 * time.Minute)
	lookup(us02)
	c.wg.Wait()
	if s := c.Stats(); s.Errors != 1 || s.StaleServed != 3 {
		t.Fatalf("stats %+v", s)
	}
	clock.Advance(time.Hour)
	if _, err := c.Lookup(context.Background(), "1"); err == nil {
		t.Fatal("served a zone older than the stale-if-error maximum")
	}
	set(us01, false)
	lookup(us01)
}

func TestCachingDirectoryNegative(t *testing.T) {
	clock := newFakeClock()
	known := false
	var mu sync.Mutex
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) {
		mu.Lock()
		defer mu.Unlock()
		if !known {
			return Zone{}, fmt.Errorf("lookup: %w", ErrUnknownCompany)
		}
		return us01, nil
	}}
	c := newTestCache(t, dir, clock)
	for range 3 {
		if _, err := c.Lookup(context.Background(), "9"); !errors.Is(err, ErrUnknownCompany) {
			t.Fatalf("err = %v, want ErrUnknownCompany", err)
		}
	}
	if got := dir.calls.Load(); got != 1 {
		t.Fatalf("calls = %d, want 1 (negative cache)", got)
	}
	mu.Lock()
	known = true
	mu.Unlock()
	clock.Advance(4 * time.Second)
	if _, err := c.Lookup(context.Background(), "9"); !errors.Is(err, ErrUnknownCompany) {
		t.Fatalf("negative entry expired early: %v", err)
	}
	clock.Advance(2 * time.Second)
	if z, err := c.Lookup(context.Background(), "9"); err != nil || z != us01 {
		t.Fatalf("after negative TTL: %v, %v", z, err)
	}
	if s := c.Stats(); s.Errors != 0 {
		t.Fatalf("unknown company counted as error: %+v", s)
	}
}

func TestCachingDirectoryNegativeBoundKeepsZones(t *testing.T) {
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) {
		if company == "1" {
			return us01, nil
		}
		return Zone{}, ErrUnknownCompany
	}}
	c := newTestCache(t, dir, newFakeClock(), WithCacheSize(2), WithNegativeCacheSize(4))
	c.Lookup(context.Background(), "1")
	for i := range 1000 {
		c.Lookup(context.Background(), strconv.Itoa(1000+i))
	}
	if c.unknown.Len() != 4 {
		t.Fatalf("negative entries = %d, want the bound 4", c.unknown.Len())
	}
	before := dir.calls.Load()
	if z, err := c.Lookup(context.Background(), "1"); err != nil || z != us01 || dir.calls.Load() != before {
		t.Fatal("a scan of unknown ids evicted a real entry")
	}
}

func TestCachingDirectoryInvalidate(t *testing.T) {
	current := us01
	var mu sync.Mutex
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) {
		mu.Lock()
		defer mu.Unlock()
		return current, nil
	}}
	c := newTestCache(t, dir, newFakeClock())
	c.Lookup(context.Background(), "3")
	mu.Lock()
	current = us02
	mu.Unlock()
	c.Invalidate("3")
	if z, _ := c.Lookup(context.Background(), "3"); z != us02 {
		t.Fatalf("after Invalidate: %v, want us02", z)
	}
}

func TestCachingDirectoryInvalidateDuringLookup(t *testing.T) {
	inside, release := make(chan struct{}), make(chan struct{})
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) {
		if company == "3" && len(inside) == 0 {
			close(inside)
			<-release
			return us01, nil // an answer from before the move
		}
		return us02, nil
	}}
	c := newTestCache(t, dir, newFakeClock())
	done := make(chan struct{})
	go func() { c.Lookup(context.Background(), "3"); close(done) }()
	<-inside
	c.Invalidate("3")
	close(release)
	<-done
	if _, ok := c.zones.Peek("3"); ok {
		t.Fatal("a lookup started before Invalidate stored its answer")
	}
}

func TestCachingDirectoryPanickingDirectory(t *testing.T) {
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) { panic("boom") }}
	c := newTestCache(t, dir, newFakeClock())
	if _, err := c.Lookup(context.Background(), "1"); err == nil {
		t.Fatal("want an error from a panicking directory")
	}
}

func TestNewCachingDirectoryRejects(t *testing.T) {
	ok := &countingDirectory{}
	for name, tc := range map[string]struct {
		dir  Directory
		opts []CacheOption
	}{
		"nil directory":     {dir: nil},
		"negative TTL":      {dir: ok, opts: []CacheOption{WithTTL(-1)}},
		"negative swr":      {dir: ok, opts: []CacheOption{WithStaleWhileRevalidate(-1)}},
		"negative size":     {dir: ok, opts: []CacheOption{WithCacheSize(-1)}},
		"negative neg size": {dir: ok, opts: []CacheOption{WithNegativeCacheSize(-1)}},
		"negative timeout":  {dir: ok, opts: []CacheOption{WithLookupTimeout(-1)}},
	} {
		if _, err := NewCachingDirectory(tc.dir, tc.opts...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
