package zone

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// recorder is a DirectoryObserver that remembers what it was told.
type recorder struct {
	mu      sync.Mutex
	results []string
	calls   []bool // failed
	took    []time.Duration
}

func (r *recorder) DirectoryLookup(_ context.Context, result string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, result)
}

func (r *recorder) DirectoryCall(_ context.Context, d time.Duration, failed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, failed)
	r.took = append(r.took, d)
}

func (r *recorder) take() ([]string, []bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, calls := r.results, r.calls
	r.results, r.calls = nil, nil
	return res, calls
}

func TestCachingDirectoryObserverSeesEveryResult(t *testing.T) {
	clock := newFakeClock()
	var fail bool
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) {
		clock.Advance(3 * time.Millisecond)
		switch {
		case fail:
			return Zone{}, errors.New("down")
		case company == "99":
			return Zone{}, ErrUnknownCompany
		}
		return us01, nil
	}}
	obs := &recorder{}
	c := newTestCache(t, dir, clock, WithDirectoryObserver(obs))
	ctx := context.Background()
	step := func(company string, wantResults []string, wantCalls []bool) {
		t.Helper()
		_, _ = c.Lookup(ctx, company)
		c.wg.Wait() // a background refresh, if any
		results, calls := obs.take()
		if !equal(results, wantResults) || !equal(calls, wantCalls) {
			t.Fatalf("lookup %s: results %v calls %v, want %v %v", company, results, calls, wantResults, wantCalls)
		}
	}
	step("1", []string{LookupMiss}, []bool{false})
	step("1", []string{LookupHit}, nil)
	step("99", []string{LookupMiss}, []bool{false}) // unknown is an answer, not a failure
	step("99", []string{LookupNegativeHit}, nil)
	clock.Advance(time.Minute + time.Second) // past the TTL, within stale-while-revalidate
	step("1", []string{LookupStale}, []bool{false})
	fail = true
	clock.Advance(2 * time.Minute) // past both: the directory fails, stale-if-error serves
	step("1", []string{LookupStale}, []bool{true})
	step("2", []string{LookupError}, []bool{true})
	if obs.took[0] != 3*time.Millisecond {
		t.Errorf("call duration %v, want 3ms from the clock", obs.took[0])
	}
	if n := c.Len(); n != 2 {
		t.Errorf("Len = %d, want 2 (company 1 and unknown 99)", n)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Without an observer a hit allocates nothing more than before.
func TestCachingDirectoryHitWithoutObserverAllocatesNothing(t *testing.T) {
	c := newTestCache(t, &countingDirectory{fn: func(context.Context, string) (Zone, error) { return us01, nil }}, newFakeClock())
	ctx := context.Background()
	_, _ = c.Lookup(ctx, "1")
	if n := testing.AllocsPerRun(100, func() { _, _ = c.Lookup(ctx, "1") }); n != 0 {
		t.Fatalf("%v allocations per hit", n)
	}
}
