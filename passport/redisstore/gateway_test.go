package redisstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/cellgate/cellgate/zone"
)

// replica is one gateway process: its own client, Store and Gateway.
type replica struct {
	store *redisstore.Store
	front http.Handler
}

func newReplica(t *testing.T, srv *redistest.Server, issuer *passport.Issuer) replica {
	t.Helper()
	st := newStore(t, newClient(t, srv), redisstore.WithKeyPrefix("gw:"), redisstore.WithTimeout(300*time.Millisecond))
	dir, err := zone.NewStaticDirectory(map[string]zone.Zone{"42": {Name: "us01", WebBaseURL: "https://us01.test"}})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := passport.NewAuthService(st, issuer, dir)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := passport.NewGateway("us01", dir, passport.Endpoint{URL: "http://auth.internal/passports", Transport: edge.Binding(auth)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Subscribe(gw.Revoked))
	cell := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	detect, err := zone.DetectCompany()
	if err != nil {
		t.Fatal(err)
	}
	return replica{st, edge.Chain(detect, gw.Middleware)(cell)}
}

func (r replica) do(token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/projects", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Procore-Company-Id", "42")
	w := httptest.NewRecorder()
	r.front.ServeHTTP(w, req)
	return w
}

func login(t *testing.T, st passport.Store, user string) (token string, s passport.Session) {
	t.Helper()
	token = passport.NewToken()
	now := time.Now()
	s = passport.Session{ID: passport.NewSessionID(), User: user, Companies: []string{"42"}, Created: now, Expires: now.Add(time.Hour)}
	if err := st.Put(context.Background(), passport.TokenKey(token), s); err != nil {
		t.Fatal(err)
	}
	return token, s
}

func code(w *httptest.ResponseRecorder) string {
	if w.Code < 400 {
		return "ok"
	}
	_, rest, _ := strings.Cut(w.Body.String(), `"code":"`)
	c, _, _ := strings.Cut(rest, `"`)
	return c
}

// Two gateway replicas on one Redis: a revocation through one refuses the
// session on the other at once, although its passport was cached there;
// during an outage cached passports keep working and new sessions are
// refused as unavailable (never signed out); after it, service resumes
// and the caches are purged.
func TestGatewaysAcrossOutage(t *testing.T) {
	srv := redistest.Start(t)
	key, err := passport.GenerateKey(passport.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := passport.NewIssuer("https://auth.test", key)
	if err != nil {
		t.Fatal(err)
	}
	a, b := newReplica(t, srv, issuer), newReplica(t, srv, issuer)
	alice, as := login(t, a.store, "alice")
	bob, _ := login(t, a.store, "bob")
	for _, r := range []replica{a, b} {
		for _, tok := range []string{alice, bob} {
			if c := code(r.do(tok)); c != "ok" {
				t.Fatalf("before: %s", c)
			}
		}
	}

	start := time.Now()
	if err := a.store.Revoke(context.Background(), as.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, func() bool { return code(b.do(alice)) == "session_revoked" })
	t.Logf("revoke on replica a → refusal on replica b: %v", time.Since(start))

	srv.Kill()
	if c := code(b.do(bob)); c != "ok" {
		t.Fatalf("a cached passport during the outage: %s", c)
	}
	carol := passport.NewToken() // a session the gateways have not seen
	if w := b.do(carol); w.Code < 500 {
		t.Fatalf("an unseen session during the outage: %d %s, want a 5xx, not a sign-out", w.Code, code(w))
	}

	srv.Restart() // empty, as a node lost without persistence
	waitFor(t, 5*time.Second, func() bool { return code(b.do(bob)) == "session_unknown" })
	t.Logf("cache purged and the store read again %v after the outage began", time.Since(start))
}
