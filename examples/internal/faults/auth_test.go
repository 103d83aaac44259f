package faults

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The authentication service is slow, hung, refusing or failing: passports
// the gateway cached keep working without a call, a session without one
// waits at most the gateway's auth timeout for 502 auth_unavailable with
// Retry-After (or is served, late, by a slow service), and concurrent
// requests of one session make one call.
func TestAuthenticationFaults(t *testing.T) {
	for _, fault := range []mode{slow, hung, refused, fail500} {
		t.Run(fault.String(), func(t *testing.T) {
			checkLeaks(t)
			s := newStack(t)
			ctx := context.Background()
			for range 5 {
				require.Equal(t, http.StatusOK, s.get(ctx, "/rest/v1.0/projects", "1").status)
			}
			assert.Equal(t, int64(1), s.auth.calls.Load(), "one call per session and company")
			require.Equal(t, http.StatusOK, s.get(ctx, "/rest/v1.0/projects", "9").status) // directory warm for 5..9 below
			for _, c := range []string{"5", "6"} {
				_, err := s.cache.Lookup(ctx, c)
				require.NoError(t, err)
			}
			s.auth.set(fault)
			before := s.auth.calls.Load()

			cached := s.get(ctx, "/rest/v1.0/projects", "1")
			assert.Equal(t, http.StatusOK, cached.status)
			assert.Less(t, cached.took, fastBound)
			assert.Equal(t, before, s.auth.calls.Load(), "a cached passport needs no call")
			row(t, "authentication "+fault.String()+", passport cached", "200 at once, no call", cached.String())

			// 20 concurrent requests of one session for a company it has no
			// passport for yet.
			const n = 20
			answers := make([]answer, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() { defer wg.Done(); answers[i] = s.get(ctx, "/rest/v1.0/projects", "5") }()
			}
			wg.Wait()
			calls := s.auth.calls.Load() - before
			switch fault {
			case slow, hung:
				assert.Equal(t, int64(1), calls, "one call for 20 concurrent requests of one session")
			case fail500:
				// A failure is remembered for passport.AuthBackoff: the
				// requests that arrive after a fast failure do not call again.
				assert.LessOrEqual(t, calls, int64(1), "at most one call for 20 concurrent requests of one session")
			}
			a := answers[0]
			for _, b := range answers {
				assert.Equal(t, a.status, b.status)
				a.took = max(a.took, b.took)
			}
			switch fault {
			case slow:
				assert.Equal(t, http.StatusOK, a.status)
				assert.GreaterOrEqual(t, a.took, slowDelay)
				row(t, "authentication slow (150 ms), 20 concurrent requests of a new session", "200 after the delay, one call",
					a.String()+" (slowest), calls "+itoa(int(calls)))
			default:
				assert.Equal(t, http.StatusBadGateway, a.status)
				assert.Equal(t, "auth_unavailable", a.code)
				assert.NotEmpty(t, a.retry)
				assert.Less(t, a.took, authTimeout+fastBound)
				row(t, "authentication "+fault.String()+", 20 concurrent requests of a new session",
					"502 auth_unavailable + Retry-After within the auth timeout ("+authTimeout.String()+")", a.String()+" (slowest), calls "+itoa(int(calls)))
			}

			s.auth.set(healthy)
			rec := s.get(ctx, "/rest/v1.0/projects", "6")
			assert.Equal(t, http.StatusOK, rec.status)
			row(t, "authentication "+fault.String()+", recovery", "200 once the fault ends", rec.String())
		})
	}
}
