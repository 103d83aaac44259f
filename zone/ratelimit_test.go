package zone

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestRateLimit(t *testing.T) {
	clock := newFakeClock()
	mw, err := RateLimit(rate.Limit(2), 3, WithClock(clock.Now), WithMaxLimiters(2))
	if err != nil {
		t.Fatal(err)
	}
	next := &okHandler{}
	h := mw(next)
	do := func(company string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if company != "" {
			req = req.WithContext(WithCompany(req.Context(), company))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for i, want := range []string{`"company";r=2;t=1`, `"company";r=1;t=1`, `"company";r=0;t=2`} {
		rec := do("1")
		if rec.Code != http.StatusNoContent || rec.Header().Get("RateLimit") != want {
			t.Fatalf("request %d: %d %q, want 204 %q", i, rec.Code, rec.Header().Get("RateLimit"), want)
		}
		if got := rec.Header().Get("RateLimit-Policy"); got != `"company";q=3;w=2` {
			t.Fatalf("RateLimit-Policy %q", got)
		}
	}
	rec := do("1")
	if rec.Code != http.StatusTooManyRequests || problemCode(t, rec) != "rate_limited" || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("over limit: %d %q Retry-After %q", rec.Code, problemCode(t, rec), rec.Header().Get("Retry-After"))
	}
	if rec := do("2"); rec.Code != http.StatusNoContent {
		t.Fatalf("another company was limited: %d", rec.Code)
	}
	clock.Advance(500 * time.Millisecond) // one token back
	if rec := do("1"); rec.Code != http.StatusNoContent {
		t.Fatalf("after refill: %d", rec.Code)
	}
	if rec := do(""); rec.Code != http.StatusNoContent || rec.Header().Get("RateLimit") != "" {
		t.Fatal("a request without a company was limited")
	}
	// The bound: a third company evicts the least recently used limiter
	// (company 2), never more than two are kept.
	do("3")
	if rec := do("1"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("company 1's limiter was lost: %d", rec.Code)
	}
}

func TestRateLimitRejects(t *testing.T) {
	for _, tc := range []struct {
		limit rate.Limit
		burst int
		opts  []Option
	}{{0, 1, nil}, {1, 0, nil}, {rate.Inf, 1, nil}, {1, 1, []Option{WithMaxLimiters(0)}}} {
		if _, err := RateLimit(tc.limit, tc.burst, tc.opts...); err == nil {
			t.Errorf("RateLimit(%v, %d): no error", tc.limit, tc.burst)
		}
	}
}
