package redisrate_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/ratelimit/redisrate"
	"github.com/redis/go-redis/v9"
)

// redisrate counts under ratelimit.DefaultKey, so the evasions package
// ratelimit closes stay closed across replicas: ten sessions of a company
// share its budget, an anonymous client's /64 and its address whatever
// company it names get one, and another company keeps its own.
func TestSharedKeyIsTheCompanyOrTheAddress(t *testing.T) {
	srv := redistest.Start(t)
	// Generous timeouts: this test is about keys, and a decision that
	// failed open on a loaded machine would read as a pass.
	replica := func() http.Handler {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
		t.Cleanup(func() { c.Close() })
		limit, err := redisrate.New(c, 0.1, 2, redisrate.WithKeyPrefix("t:key:"), redisrate.WithTimeout(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return limit(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	}
	replicas := []http.Handler{replica(), replica()}
	n := 0
	send := func(addr, company, principal string) bool {
		r := httptest.NewRequest(http.MethodGet, "/projects", nil)
		r.RemoteAddr = addr
		ctx := r.Context()
		if company != "" {
			ctx = zone.ContextWithCompany(ctx, company)
		}
		if principal != "" {
			ctx = edge.ContextWithPrincipal(ctx, principal)
		}
		w := httptest.NewRecorder()
		replicas[n%2].ServeHTTP(w, r.WithContext(ctx))
		n++
		if w.Header().Get("RateLimit") == "" {
			t.Fatalf("no decision (failed open?): %d %v", w.Code, w.Header())
		}
		return w.Code == http.StatusOK
	}
	count := func(name string, want int, reqs func(i int) (addr, company, principal string), total int) {
		t.Helper()
		got := 0
		for i := range total {
			if send(reqs(i)) {
				got++
			}
		}
		if got != want {
			t.Errorf("%s: %d of %d passed, want %d", name, got, total, want)
		}
	}
	count("ten sessions of company 42", 2, func(i int) (string, string, string) {
		return "192.0.2.1:1", "42", fmt.Sprintf("session:%d", i)
	}, 10)
	count("company 43", 1, func(int) (string, string, string) { return "192.0.2.1:1", "43", "session:x" }, 1)
	count("five addresses of one /64", 2, func(i int) (string, string, string) {
		return fmt.Sprintf("[2001:db8:1:2::%x]:1", i+1), "", ""
	}, 5)
	count("one address naming ten companies", 2, func(i int) (string, string, string) {
		return "203.0.113.9:1", fmt.Sprint(100 + i), ""
	}, 10)
}
