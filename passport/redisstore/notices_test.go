package redisstore_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/cellgate/cellgate/zone"
	"github.com/redis/go-redis/v9"
)

// inbox collects what a subscriber receives.
type inbox struct {
	mu   sync.Mutex
	got  []passport.Revocation
	seen chan passport.Revocation
}

func subscribe(t testing.TB, st *redisstore.Store) *inbox {
	in := &inbox{seen: make(chan passport.Revocation, 1024)}
	cancel := st.Subscribe(func(r passport.Revocation) {
		in.mu.Lock()
		in.got = append(in.got, r)
		in.mu.Unlock()
		select {
		case in.seen <- r:
		default:
		}
	})
	t.Cleanup(cancel)
	return in
}

// wait returns the first revocation for which match holds, or fails t.
func (in *inbox) wait(t testing.TB, timeout time.Duration, match func(passport.Revocation) bool) passport.Revocation {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case r := <-in.seen:
			if match(r) {
				return r
			}
		case <-deadline:
			t.Fatalf("no matching notice within %v", timeout)
		}
	}
}

func isAll(r passport.Revocation) bool { return r.All }

// Two Stores on two clients stand for two replicas: a revocation made
// through one reaches the subscribers of the other, and its own
// subscribers hear it once. Logs the notice latency p50/p99.
func TestNoticesCrossReplicas(t *testing.T) {
	t.Run("SingleNode", func(t *testing.T) {
		t.Parallel()
		srv := redistest.Start(t)
		noticesCrossReplicas(t, newClient(t, srv), newClient(t, srv))
	})
	t.Run("Cluster", func(t *testing.T) {
		t.Parallel()
		c := redistest.StartCluster(t, time.Second)
		noticesCrossReplicas(t, newClusterClient(t, c), newClusterClient(t, c))
	})
}

func noticesCrossReplicas(t *testing.T, ca, cb redis.UniversalClient) {
	prefix := redisstore.WithKeyPrefix("notices:")
	a := newStore(t, ca, prefix)
	b := newStore(t, cb, prefix)
	inA, inB := subscribe(t, a), subscribe(t, b)
	inA.wait(t, 5*time.Second, isAll) // subscribed
	inB.wait(t, 5*time.Second, isAll)

	const n = 300
	lat := make([]time.Duration, 0, n)
	for i := range n {
		id := "s-" + strings.Repeat("x", i%7) + time.Now().Format("150405.000000000")
		start := time.Now()
		if err := a.Revoke(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		inB.wait(t, 2*time.Second, func(r passport.Revocation) bool { return r.SessionID == id && !r.At.IsZero() }) // At: for the lag
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	p50, p99 := lat[n/2], lat[n*99/100]
	t.Logf("%s: revoke→notice on another client, %d revocations: p50 %v, p99 %v, max %v", t.Name(), n, p50, p99, lat[n-1])
	if p99 > time.Second {
		t.Errorf("p99 %v, want under a second", p99)
	}
	inA.mu.Lock()
	defer inA.mu.Unlock()
	own := 0
	for _, r := range inA.got {
		if !r.All {
			own++
		}
	}
	if own != n {
		t.Fatalf("the revoking store's subscriber heard %d notices, want %d (no echo)", own, n)
	}
}

// Redis is killed mid-test and restarted on the same port: meanwhile Get
// fails fast (the authentication service answers 503), a gateway keeps
// its cached passports, nothing piles up; afterwards service resumes and
// the subscriber is told to drop everything.
func TestOutageAndRecovery(t *testing.T) {
	srv := redistest.Start(t)
	client := newClient(t, srv)
	st := newStore(t, client, redisstore.WithTimeout(300*time.Millisecond))
	in := subscribe(t, st)
	in.wait(t, 5*time.Second, isAll)

	token := passport.NewToken()
	key := passport.TokenKey(token)
	now := time.Now()
	s := passport.Session{ID: passport.NewSessionID(), User: "u-1", Companies: []string{"42"}, Created: now, Expires: now.Add(time.Hour)}
	if err := st.Put(context.Background(), key, s); err != nil {
		t.Fatal(err)
	}
	auth := authService(t, st)
	if code, _ := askPassport(t, auth, key); code != http.StatusOK {
		t.Fatalf("before the outage: %d", code)
	}

	goroutines := runtime.NumGoroutine()
	srv.Kill()
	var wg sync.WaitGroup
	start := time.Now()
	for range 200 { // a burst of requests during the outage
		wg.Go(func() {
			_, err := st.Get(context.Background(), key)
			if err == nil || errors.Is(err, passport.ErrSessionUnknown) {
				t.Errorf("Get during the outage: %v, want a store error", err)
			}
		})
	}
	wg.Wait()
	t.Logf("200 concurrent Gets during the outage failed in %v", time.Since(start))
	if time.Since(start) > 3*time.Second {
		t.Error("Gets during the outage took too long to fail")
	}
	code, body := askPassport(t, auth, key)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"session_store_unavailable"`) {
		t.Fatalf("auth service during the outage: %d %s", code, body)
	}
	if g := runtime.NumGoroutine(); g > goroutines+10 {
		t.Errorf("goroutines grew from %d to %d during the outage", goroutines, g)
	}
	if stats := client.PoolStats(); stats.TotalConns > 16 {
		t.Errorf("%d connections, the pool holds 16", stats.TotalConns)
	}

	restarted := time.Now()
	srv.Restart() // empty: no persistence, as after losing a node
	in.wait(t, 5*time.Second, isAll)
	t.Logf("resubscribed and purged %v after the restart began", time.Since(restarted))
	// After PoolSize failed dials go-redis's pool fails fast and probes the
	// server once a second, so writes resume within about a second.
	waitFor(t, 5*time.Second, func() bool { return st.Put(context.Background(), key, s) == nil })
	t.Logf("Put succeeds again %v after the restart began", time.Since(restarted))
	if code, _ := askPassport(t, auth, key); code != http.StatusOK {
		t.Fatalf("after recovery: %d", code)
	}
}

func authService(t testing.TB, st passport.Store) http.Handler {
	t.Helper()
	key, err := passport.GenerateKey(passport.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := passport.NewIssuer("https://auth.test", key)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := zone.NewStaticDirectory(map[string]zone.Zone{"42": {Name: "us01", WebBaseURL: "https://us01.test"}})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := passport.NewAuthService(st, issuer, dir)
	if err != nil {
		t.Fatal(err)
	}
	return auth
}

// askPassport asks auth, as a gateway does through a binding, for a
// passport of the session under key.
func askPassport(t testing.TB, auth http.Handler, key string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Transport: edge.Binding(auth)}).Post("http://auth.internal/passports", "application/json",
		strings.NewReader(`{"session_key":"`+key+`","company_id":"42","zone":"us01"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = io.Copy(&b, resp.Body)
	return resp.StatusCode, b.String()
}

// A notice connection that goes silent without closing (a network cut) is
// found by the ping and replaced; the subscriber is told to purge.
func TestSilentConnectionReplaced(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.NewProxy(t, srv.Addr())
	st := newStore(t, newClient(t, proxy), redisstore.WithPingInterval(100*time.Millisecond))
	in := subscribe(t, st)
	in.wait(t, 5*time.Second, isAll)
	proxy.Freeze()
	start := time.Now()
	in.wait(t, 5*time.Second, isAll)
	t.Logf("a silent notice connection replaced after %v", time.Since(start))
}
