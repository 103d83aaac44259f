package zone

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A hung directory costs no request that has a stale answer: past TTL and
// stale-while-revalidate, every caller gets the stale zone at once, one
// background call at a time reaches the directory, a failed call is not
// retried before the back-off, and the fresh zone is served once the
// directory answers again.
//
// "At once" is shown by order, not by a stopwatch: the lookup timeout only
// catches a hang, and each wave of callers must finish while the one
// background call is still hung (a caller that waited on it could not
// finish before it ends); then the test ends that call with an error, as
// the lookup timeout would.
func TestCachingDirectoryHungDirectoryServesStaleAtOnce(t *testing.T) {
	clock := newFakeClock()
	var hang atomic.Bool
	release := make(chan struct{})
	giveUp := make(chan struct{})
	var inFlight, maxInFlight atomic.Int64
	current := us01
	var mu sync.Mutex
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		if hang.Load() {
			select {
			case <-release:
			case <-giveUp:
				return Zone{}, errors.New("directory timed out")
			case <-ctx.Done():
				return Zone{}, ctx.Err()
			}
		}
		mu.Lock()
		defer mu.Unlock()
		return current, nil
	}}
	c := newTestCache(t, dir, clock, WithLookupTimeout(time.Minute), WithRetryBackoff(5*time.Second))
	if z, err := c.Lookup(context.Background(), "1"); err != nil || z != us01 {
		t.Fatalf("warm-up: %v, %v", z, err)
	}

	hang.Store(true)
	clock.Advance(2 * time.Minute) // past TTL (1 min) + SWR (10 s), within stale-if-error (1 h)
	wave := func(name string, refreshHung bool) {
		t.Helper()
		const n = 200
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				z, err := c.Lookup(context.Background(), "1")
				if err == nil && z != us01 {
					t.Errorf("%s: zone %v, want the stale us01", name, z)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		// The refresh may not have reached the directory yet (calls 1);
		// once it has (calls 2) it must still be hanging.
		if refreshHung && dir.calls.Load() == 2 && inFlight.Load() == 0 {
			t.Fatalf("%s finished after %v, once the hung call had ended: callers waited on the hung directory", name, time.Since(start))
		}
	}
	wave("first wave", true)
	close(giveUp) // the one background call fails, as at the lookup timeout
	c.wg.Wait()
	if got := dir.calls.Load(); got != 2 {
		t.Fatalf("calls = %d, want 2 (warm-up and one refresh)", got)
	}
	wave("second wave, within the back-off", false)
	if got := dir.calls.Load(); got != 2 {
		t.Fatalf("calls = %d during the back-off, want 2", got)
	}

	// The directory recovers with a new answer; after the back-off the
	// next lookup refreshes and the one after sees it.
	mu.Lock()
	current = us02
	mu.Unlock()
	hang.Store(false)
	clock.Advance(6 * time.Second)
	if z, _ := c.Lookup(context.Background(), "1"); z != us01 {
		t.Fatalf("lookup after back-off = %v, want the stale us01 while refreshing", z)
	}
	c.wg.Wait()
	if z, err := c.Lookup(context.Background(), "1"); err != nil || z != us02 {
		t.Fatalf("after recovery: %v, %v; want us02", z, err)
	}
	if m := maxInFlight.Load(); m != 1 {
		t.Fatalf("%d directory calls at once, want 1", m)
	}
	close(release)
}
