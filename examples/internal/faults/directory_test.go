package faults

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/internal/testrig/testwait"
)

// fastBound is the latency bound of an answer that must not wait on a
// faulty peer: half the stack's timeouts, so an answer within it did not
// wait one out, and long enough for -race on a loaded machine (scaled by
// testwait).
var fastBound = testwait.Scale(time.Second)

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
			row(t, "directory "+fault.String()+", cold cache", "503 zone_directory_unavailable + Retry-After within the lookup timeout ("+lookupTimeout.String()+")", cold.String())
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
// directory answers (all get the zone) or fails (all get the error).
//
// "Concurrent" is made certain, not hoped for: the directory holds the
// call at a gate until every lookup has joined it (the cache counts a miss
// once it waits on the shared call), and the lookup timeout only catches a
// hang. A lookup that arrives after the call ended is a new miss and may
// make a new call; that is not what this proves. TestDirectoryFaults
// proves the lookup timeout of a hung directory.
func TestDirectoryThousandColdMisses(t *testing.T) {
	checkLeaks(t)
	s := newStack(t, withLookupTimeout(hangTimeout))
	for _, tc := range []struct {
		fault   mode
		company string
		ok      bool
	}{{healthy, "100", true}, {fail500, "101", false}} {
		s.dir.set(tc.fault)
		open := s.dir.hold()
		before, missesBefore := s.dir.calls.Load(), s.cache.Stats().Misses
		const n = 1000
		var wg sync.WaitGroup
		var failed atomic.Int64
		start := time.Now()
		for range n {
			wg.Go(func() {
				if _, err := s.cache.Lookup(context.Background(), tc.company); err != nil {
					failed.Add(1)
				}
			})
		}
		eventually(t, 30*time.Second, "every lookup waits on the held directory call", func() bool {
			return s.cache.Stats().Misses-missesBefore == n
		})
		open()
		wg.Wait()
		took := time.Since(start)
		calls := s.dir.calls.Load() - before
		assert.Equal(t, int64(1), calls, "%s: directory calls", tc.fault)
		if tc.ok {
			assert.Zero(t, failed.Load())
		} else {
			assert.Equal(t, int64(n), failed.Load())
		}
		row(t, "directory "+tc.fault.String()+", 1,000 concurrent cold misses", "one directory call",
			"calls "+itoa(int(calls))+", failed "+itoa(int(failed.Load()))+" of 1000, in "+took.Round(time.Millisecond).String())
	}
	s.dir.set(healthy)
}
