package redisrate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/ratelimit/redisrate"
	"github.com/redis/go-redis/v9"
)

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quiet{})
	os.Exit(m.Run())
}

// decisionTimeout is the limiter's timeout in the tests that count: a
// decision that times out fails open, which on a loaded machine under
// -race the 100 ms default can do and a count test would take for the
// limiter's answer. It catches a hang, nothing slower. TestFailsOpen keeps
// the default.
var decisionTimeout = testwait.Scale(5 * time.Second)

func newClient(t testing.TB, addr string) redis.UniversalClient {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: decisionTimeout, ReadTimeout: decisionTimeout, PoolSize: 8, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

func limited(t testing.TB, client redis.UniversalClient, prefix string) http.Handler {
	limit, err := redisrate.New(client, 0.1, 2, redisrate.WithKeyPrefix(prefix), redisrate.WithTimeout(decisionTimeout)) // one request per 10s, bursts of 2
	if err != nil {
		t.Fatal(err)
	}
	return limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
}

func as(h http.Handler, principal string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/projects", nil)
	ctx := edge.ContextWithPrincipal(zone.ContextWithCompany(r.Context(), "42"), principal)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r.WithContext(ctx))
	return w
}

// Two replicas (two clients) share one budget per key; the answers carry
// the same headers as package ratelimit's.
func TestSharedBudgetAcrossReplicas(t *testing.T) {
	for name, client := range map[string]func(t *testing.T) (redis.UniversalClient, redis.UniversalClient){
		"SingleNode": func(t *testing.T) (redis.UniversalClient, redis.UniversalClient) {
			srv := redistest.Start(t)
			return newClient(t, srv.Addr()), newClient(t, srv.Addr())
		},
		"Cluster": func(t *testing.T) (redis.UniversalClient, redis.UniversalClient) {
			c := redistest.StartCluster(t, time.Second)
			mk := func() redis.UniversalClient {
				cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
				t.Cleanup(func() { cc.Close() })
				// A fresh cluster may still answer MOVED or CLUSTERDOWN to a
				// client whose slot map came early: wait until every master
				// answers this client, so a fail-open decision is never
				// mistaken for the limiter's.
				deadline := time.Now().Add(10 * time.Second)
				for {
					err := cc.ForEachMaster(t.Context(), func(ctx context.Context, m *redis.Client) error { return m.Ping(ctx).Err() })
					if err == nil {
						err = cc.Set(t.Context(), "t:rl:ready", "1", time.Minute).Err()
					}
					if err == nil {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("cluster not ready for a client: %v", err)
					}
					time.Sleep(20 * time.Millisecond) // polling a peer's readiness, bounded by the deadline
				}
				return cc
			}
			return mk(), mk()
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ca, cb := client(t)
			a, b := limited(t, ca, "t:rl:"), limited(t, cb, "t:rl:")
			w := as(a, "session:a")
			if w.Code != http.StatusOK || w.Header().Get("RateLimit-Policy") != `"company";q=2;w=20` ||
				w.Header().Get("RateLimit") != `"company";r=1;t=10` {
				t.Fatalf("first: %d %v", w.Code, w.Header())
			}
			if w := as(b, "session:a"); w.Code != http.StatusOK || w.Header().Get("RateLimit") != `"company";r=0;t=20` {
				t.Fatalf("second, on the other replica: %d %v", w.Code, w.Header())
			}
			w = as(a, "session:a")
			if w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), `"code":"rate_limited"`) ||
				w.Header().Get("Retry-After") != "10" {
				t.Fatalf("third: %d %v %s", w.Code, w.Header(), w.Body)
			}
			if w := as(b, "session:b"); w.Code != http.StatusTooManyRequests {
				t.Fatalf("another session of the company: %d, want 429: the budget is the company's", w.Code)
			}
		})
	}
}

// Redis down: requests pass (fail open), within the decision timeout
// (the default, 100 ms, and the client's own short timeouts).
func TestFailsOpen(t *testing.T) {
	srv := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), DialTimeout: 100 * time.Millisecond, ReadTimeout: 100 * time.Millisecond, PoolSize: 8, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	limit, err := redisrate.New(c, 0.1, 2, redisrate.WithKeyPrefix("t:rl:"))
	if err != nil {
		t.Fatal(err)
	}
	h := limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Kill()
	start := time.Now()
	for range 5 {
		if w := as(h, "session:a"); w.Code != http.StatusOK || w.Header().Get("RateLimit") != "" {
			t.Fatalf("with Redis down: %d %v", w.Code, w.Header())
		}
	}
	if d := time.Since(start); d > testwait.Scale(2*time.Second) { // five timeouts of 100 ms, and a margin
		t.Fatalf("five decisions took %v with Redis down", d)
	}
}

// BenchmarkAllow is one decision: one EVALSHA round trip on loopback.
func BenchmarkAllow(b *testing.B) {
	srv := redistest.Start(b)
	l, err := redisrate.NewLimiter(newClient(b, srv.Addr()), 1e6, 1000)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Allow(ctx, "42|session:a"); err != nil {
			b.Fatal(err)
		}
	}
}

// New counts a request under WithKeyFunc's key: two principals with one key
// share one budget.
func TestNewKeysOnWithKeyFunc(t *testing.T) {
	srv := redistest.Start(t)
	limit, err := redisrate.New(newClient(t, srv.Addr()), 0.1, 2, redisrate.WithKeyPrefix("withkey:"), redisrate.WithTimeout(decisionTimeout),
		redisrate.WithKeyFunc(func(*http.Request) string { return "everyone" }))
	if err != nil {
		t.Fatal(err)
	}
	h := limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for i, p := range []string{"alice", "bob", "carol"} {
		want := http.StatusOK
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if w := as(h, p); w.Code != want {
			t.Errorf("request %d (%s) = %d, want %d", i+1, p, w.Code, want)
		}
	}
}
