package redisstore_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/cellgate/cellgate/zone"
)

// watcher is a gateway replica that watches its notice Store
// (Gateway.Watch) and mints through an authentication service on
// authStore; mints counts the calls.
type watcher struct {
	replica
	mints *atomic.Int64
}

func newWatcher(t *testing.T, notices, authStore *redisstore.Store, issuer *passport.Issuer, clk *fakeclock.Clock) watcher {
	t.Helper()
	dir, err := zone.NewStaticDirectory(map[string]zone.Zone{"42": {Name: "us01", WebBaseURL: "https://us01.test"}})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := passport.NewAuthService(authStore, issuer, dir)
	if err != nil {
		t.Fatal(err)
	}
	mints := new(atomic.Int64)
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mints.Add(1)
		auth.ServeHTTP(w, r)
	})
	gw, err := passport.NewGateway("us01", dir, passport.Endpoint{URL: "http://auth.internal/passports", Transport: edge.Binding(counted)}, passport.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Watch(notices))
	cell := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	detect, err := zone.DetectCompany()
	if err != nil {
		t.Fatal(err)
	}
	return watcher{replica{notices, edge.Chain(detect, gw.Middleware)(cell)}, mints}
}

func newIssuer(t *testing.T) *passport.Issuer {
	t.Helper()
	key, err := passport.GenerateKey(passport.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := passport.NewIssuer("https://auth.test", key)
	if err != nil {
		t.Fatal(err)
	}
	return issuer
}

// Gateway B's notice connection is black-holed (a network cut: the socket
// stays open, nothing comes back), then the session is revoked through A.
// B never hears of it, yet refuses the session as soon as its notice path
// has not been proven alive within the bound: it stops trusting its cache
// and asks the authentication service, which reads the revocation. Time
// is the fake clock's, where the bound is checked; the heartbeat runs on
// real time but can only prove the path through the frozen connection.
func TestPartitionedGatewayRefusesWithinBound(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.NewProxy(t, srv.Addr())
	clk := fakeclock.New(time.Now())
	prefix := redisstore.WithKeyPrefix("part:" + passport.NewSessionID() + ":")
	a := newStore(t, newClient(t, srv), prefix)
	// B's notices come through the proxy; no renewal of the connection
	// within the test (WithPingInterval), so only the bound can help.
	bNotices := newStore(t, newClient(t, proxy), prefix, redisstore.WithClock(clk.Now), redisstore.WithPingInterval(time.Hour))
	// B's authentication service is another process that reaches Redis.
	b := newWatcher(t, bNotices, newStore(t, newClient(t, srv), prefix), newIssuer(t), clk)
	waitFor(t, 20*time.Second, bNotices.NoticesFresh)

	alice, as := login(t, a, "alice")
	for range 2 {
		if c := code(b.do(alice)); c != "ok" {
			t.Fatalf("before the cut: %s", c)
		}
	}
	if n := b.mints.Load(); n != 1 {
		t.Fatalf("%d mints before the cut, want 1 (then the cache)", n)
	}

	proxy.Freeze()
	if err := a.Revoke(context.Background(), as.ID); err != nil {
		t.Fatal(err)
	}
	// Within the bound B may still serve its cache: that is the lag the
	// bound allows.
	if c := code(b.do(alice)); c != "ok" || b.mints.Load() != 1 {
		t.Fatalf("within the bound: %s after %d mints, want the cached passport", c, b.mints.Load())
	}
	clk.Advance(redisstore.DefaultNoticeBound + time.Millisecond)
	if bNotices.NoticesFresh() {
		t.Fatal("the notice path is fresh past the bound through a black-holed connection")
	}
	if c := code(b.do(alice)); c != "session_revoked" {
		t.Fatalf("past the bound: %s, want session_revoked (B asks instead of trusting its cache)", c)
	}
}

// Redis itself goes away: a gateway that watches the Store serves its
// cached passports within the bound, then fails closed (its
// authentication service cannot read the store) instead of serving them
// for the cache TTL. When Redis is back, service resumes.
func TestWatchingGatewayFailsClosedPastBound(t *testing.T) {
	srv := redistest.Start(t)
	clk := fakeclock.New(time.Now())
	st := newStore(t, newClient(t, srv), redisstore.WithClock(clk.Now), redisstore.WithTimeout(300*time.Millisecond))
	b := newWatcher(t, st, st, newIssuer(t), clk)
	waitFor(t, 20*time.Second, st.NoticesFresh)
	bob, _ := login(t, st, "bob")
	if c := code(b.do(bob)); c != "ok" {
		t.Fatalf("before the outage: %s", c)
	}

	srv.Kill()
	if c := code(b.do(bob)); c != "ok" {
		t.Fatalf("outage, within the bound: %s, want the cached passport", c)
	}
	clk.Advance(redisstore.DefaultNoticeBound + time.Millisecond)
	if w := b.do(bob); w.Code < 500 {
		t.Fatalf("outage, past the bound: %d %s, want a 5xx (fail closed, never a sign-out)", w.Code, code(w))
	}

	srv.Restart() // empty: the session is gone with it
	clk.Advance(passport.AuthBackoff)
	waitFor(t, 20*time.Second, func() bool { return code(b.do(bob)) == "session_unknown" })
}

// The heartbeat proves the path through Cluster too: NoticesFresh turns
// true once subscribed, and a revocation still crosses.
func TestNoticesFreshOnCluster(t *testing.T) {
	c := redistest.StartCluster(t, time.Second)
	prefix := redisstore.WithKeyPrefix("fresh:")
	a := newStore(t, newClusterClient(t, c), prefix)
	b := newStore(t, newClusterClient(t, c), prefix)
	if b.NoticesFresh() {
		t.Fatal("fresh before anyone subscribed")
	}
	in := subscribe(t, b)
	in.wait(t, 20*time.Second, isAll)
	waitFor(t, 20*time.Second, b.NoticesFresh)
	if err := a.RevokeUser(context.Background(), "u-9"); err != nil {
		t.Fatal(err)
	}
	in.wait(t, 20*time.Second, func(r passport.Revocation) bool { return r.User == "u-9" })
}

// The same cut on real time, measured: how long after the revocation the
// partitioned replica refuses (the bound plus at most a heartbeat, plus one
// authentication call). The deadline only catches a hang; before the bound
// existed B served the session for its whole cache TTL (one minute).
func TestPartitionedGatewayRefusalLatency(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.NewProxy(t, srv.Addr())
	prefix := redisstore.WithKeyPrefix("lat:" + passport.NewSessionID() + ":")
	a := newStore(t, newClient(t, srv), prefix)
	bNotices := newStore(t, newClient(t, proxy), prefix, redisstore.WithPingInterval(time.Hour))
	b := newWatcher(t, bNotices, newStore(t, newClient(t, srv), prefix), newIssuer(t), fakeclock.New(time.Now()))
	waitFor(t, 20*time.Second, bNotices.NoticesFresh)
	alice, as := login(t, a, "alice")
	if c := code(b.do(alice)); c != "ok" {
		t.Fatal(c)
	}
	proxy.Freeze()
	start := time.Now()
	if err := a.Revoke(context.Background(), as.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool { return code(b.do(alice)) == "session_revoked" })
	t.Logf("partitioned replica refused the revoked session %v after the revocation (bound %v)", time.Since(start), redisstore.DefaultNoticeBound)
}
