package faults

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastBound is the latency bound of an answer that must not wait on a
// faulty peer (generous for -race on a busy CI machine).
const fastBound = 250 * time.Millisecond

// The zone directory refuses, hangs, fails or answers garbage: a warm or
// stale cache answers at once, a cold one answers 503
// zone_directory_unavailable with Retry-After within the lookup timeout, and
// everything recovers when the fault ends.
func TestDirectoryFaults(t *testing.T) {
	for _, fault := range []mode{refused, hung, fail500, garbage} {
		t.Run(fault.String(), func(t *testing.T) {
			checkLeaks(t)
			s := newStack(t)
			ctx := context.Background()
			require.Equal(t, http.StatusOK, s.get(ctx, "/rest/v1.0/projects", "2").status) // to become stale
			s.clock.Advance(2 * time.Minute)                                               // past TTL + SWR, within stale-if-error
			require.Equal(t, http.StatusOK, s.get(ctx, "/rest/v1.0/projects", "1").status) // warm
			s.dir.set(fault)
			callsBefore := s.dir.calls.Load()

			warm := s.get(ctx, "/rest/v1.0/projects", "1")
			assert.Equal(t, http.StatusOK, warm.status)
			assert.Less(t, warm.took, fastBound)
			row(t, "directory "+fault.String()+", warm cache", "200 at once", warm.String())

			stale := s.get(ctx, "/rest/v1.0/projects", "2")
			assert.Equal(t, http.StatusOK, stale.status)
			assert.Less(t, stale.took, fastBound, "a stale answer is served at once")
			row(t, "directory "+fault.String()+", stale cache", "200 (stale zone) at once", stale.String())

			cold := s.get(ctx, "/rest/v1.0/projects", "3")
			assert.Equal(t, http.StatusServiceUnavailable, cold.status)
			assert.Equal(t, "zone_directory_unavailable", cold.code)
			assert.NotEmpty(t, cold.retry)
			assert.Less(t, cold.took, lookupTimeout+fastBound)
			row(t, "directory "+fault.String()+", cold cache", "503 zone_directory_unavailable + Retry-After within the lookup timeout (300 ms)", cold.String())
			if fault != refused {
				assert.LessOrEqual(t, s.dir.calls.Load()-callsBefore, int64(2), "one refresh of the stale company and one cold miss")
			}

			s.dir.set(healthy)
			rec := s.get(ctx, "/rest/v1.0/projects", "3")
			assert.Equal(t, http.StatusOK, rec.status)
			row(t, "directory "+fault.String()+", recovery", "200 once the fault ends", rec.String())
		})
	}
}

// 1,000 concurrent cold misses make one directory call, whether the
// directory is slow (all get the zone) or hung (all get the error after
// the lookup timeout).
func TestDirectoryThousandColdMisses(t *testing.T) {
	checkLeaks(t)
	s := newStack(t)
	for _, tc := range []struct {
		fault   mode
		company string
		ok      bool
	}{{slow, "100", true}, {hung, "101", false}} {
		s.dir.set(tc.fault)
		before := s.dir.calls.Load()
		const n = 1000
		var wg sync.WaitGroup
		var mu sync.Mutex
		failed := 0
		start := time.Now()
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.cache.Lookup(context.Background(), tc.company)
				if err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		took := time.Since(start)
		calls := s.dir.calls.Load() - before
		assert.Equal(t, int64(1), calls, "%s: directory calls", tc.fault)
		if tc.ok {
			assert.Zero(t, failed)
		} else {
			assert.Equal(t, n, failed)
		}
		assert.Less(t, took, lookupTimeout+time.Second)
		row(t, "directory "+tc.fault.String()+", 1,000 concurrent cold misses", "one directory call",
			"calls "+itoa(int(calls))+", failed "+itoa(failed)+" of 1000, in "+took.Round(time.Millisecond).String())
	}
	s.dir.set(healthy)
}
