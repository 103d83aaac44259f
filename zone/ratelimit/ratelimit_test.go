package ratelimit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/zone"
	"golang.org/x/time/rate"
)

func TestRateLimit(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	mw, err := New(rate.Limit(2), 3, WithClock(clock.Now), WithMaxLimiters(2))
	if err != nil {
		t.Fatal(err)
	}
	h := mw(ok)
	do := func(company string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req = req.WithContext(edge.ContextWithPrincipal(req.Context(), "session:s1"))
		if company != "" {
			req = req.WithContext(zone.ContextWithCompany(req.Context(), company))
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
	// The bound: a third key evicts the least recently used limiter
	// (company 2), never more than two are kept.
	do("3")
	if rec := do("1"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("company 1's limiter was lost: %d", rec.Code)
	}
}

// A client that only names a company cannot spend the budget of the
// company's authenticated users.
func TestRateLimitKeysOnAuthenticatedIdentity(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	mw, err := New(rate.Limit(1), 2, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	h := mw(ok)
	do := func(company, principal, addr string) int {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = addr
		req.Header.Set("X-Forwarded-For", "203.0.113.9") // never a key
		ctx := zone.ContextWithCompany(req.Context(), company)
		if principal != "" {
			ctx = edge.ContextWithPrincipal(ctx, principal)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(ctx))
		return rec.Code
	}
	// An anonymous attacker names company 1 until limited.
	for range 2 {
		if code := do("1", "", "198.51.100.7:4000"); code != http.StatusNoContent {
			t.Fatalf("attacker limited early: %d", code)
		}
	}
	if code := do("1", "", "198.51.100.7:4001"); code != http.StatusTooManyRequests {
		t.Fatalf("attacker from the same address, another port: %d, want 429", code)
	}
	// Company 1's signed-in users and other addresses keep their budgets.
	for _, tc := range []struct{ principal, addr string }{
		{"session:alice", "198.51.100.7:4002"},
		{"session:bob", "192.0.2.1:5000"},
		{"", "192.0.2.2:5000"},
	} {
		if code := do("1", tc.principal, tc.addr); code != http.StatusNoContent {
			t.Fatalf("%s from %s limited by the attacker: %d", tc.principal, tc.addr, code)
		}
	}
	// And a request without a company is limited too, per address.
	for range 2 {
		do("", "", "198.51.100.8:1")
	}
	if code := do("", "", "198.51.100.8:2"); code != http.StatusTooManyRequests {
		t.Fatalf("anonymous request without a company: %d, want 429", code)
	}
}

func TestRateLimitRejects(t *testing.T) {
	for _, tc := range []struct {
		limit rate.Limit
		burst int
		opts  []Option
	}{{0, 1, nil}, {1, 0, nil}, {rate.Inf, 1, nil}, {1, 1, []Option{WithMaxLimiters(-1)}},
		{1, 1, []Option{nil}}, {1, 1, []Option{PrefixOption{}}}, {1, 1, []Option{TrustOption{}}}} {
		if _, err := New(tc.limit, tc.burst, tc.opts...); err == nil {
			t.Errorf("New(%v, %d, %v): no error", tc.limit, tc.burst, tc.opts)
		}
	}
	for _, o := range []KeyFuncOption{nil, PrefixOption{}, TrustOption{}} {
		if _, err := NewKeyFunc(o); err == nil || err.Error() != "ratelimit: NewKeyFunc: zero Option" {
			t.Errorf("NewKeyFunc(%#v) = %v", o, err)
		}
	}
	// Zero is the default.
	if _, err := New(1, 1, WithMaxLimiters(0), WithClock(nil), WithKeyFunc(nil), WithObserver(nil)); err != nil {
		t.Error(err)
	}
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

// problemCode returns the code of a problem+json answer, or "".
func problemCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var p struct {
		Code string `json:"code"`
	}
	if rec.Header().Get("Content-Type") != edge.ContentTypeProblem {
		return ""
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return p.Code
}
