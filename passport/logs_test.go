package passport

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/internal/testrig/syncbuf"
	"github.com/cellgate/cellgate/zone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoSecretsInLogs runs login, passports, revocation and failures with
// every log line captured at debug level, and checks that no session token,
// store key or passport reaches a log line or a problem body.
func TestNoSecretsInLogs(t *testing.T) {
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	old := slog.Default()
	slog.SetDefault(logger)
	defer slog.SetDefault(old)
	ctx := context.Background()

	f := newFixture(t)
	logged := func(h http.Handler) http.Handler {
		return edge.Chain(must.Build(edge.RequestID()), must.Build(edge.AccessLog(edge.WithLogger(logger))), must.Build(edge.Recover(edge.WithLogger(logger))))(h)
	}
	// Login through the storage service, as a login service would.
	v, err := hmacsig.NewVerifier(hmacsig.Keys{Current: storageKey}, hmacsig.WithLogger(logger))
	require.NoError(t, err)
	storage, err := NewStorageService(f.store, v)
	require.NoError(t, err)
	signer, err := hmacsig.NewSigner(storageKey)
	require.NoError(t, err)
	client, err := NewStoreClient(Endpoint{URL: "http://sessions.internal", Transport: &hmacsig.Transport{Signer: signer, Base: edge.Binding(logged(storage))}})
	require.NoError(t, err)

	// The authentication service and the cell log through access logs too.
	f.gw.rt = edge.Outbound(edge.Binding(logged(f.auth)))
	var passports []string
	var mu sync.Mutex
	cell := logged(f.verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		passports = append(passports, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		mu.Unlock()
	})))
	detect, err := zone.DetectCompany(zone.WithOptional())
	require.NoError(t, err)
	front := logged(edge.Chain(detect, f.gw.Middleware)(cell))

	var secrets []string
	var bodies strings.Builder
	send := func(h http.Handler, token string, cookie bool, company string) {
		r := httptest.NewRequest(http.MethodGet, "/projects?session="+token, nil)
		if cookie {
			r.AddCookie(&http.Cookie{Name: DefaultCookie, Value: token})
		} else if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		if company != "" {
			r.Header.Set("Procore-Company-Id", company)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		bodies.WriteString(w.Body.String())
	}
	now := f.clk.Now()
	login := func(user string) (string, Session) {
		token := NewToken()
		secrets = append(secrets, token, TokenKey(token))
		s := Session{ID: NewSessionID(), User: user, Companies: []string{"42"}, Created: now, Expires: now.Add(time.Hour)}
		require.NoError(t, client.Put(ctx, TokenKey(token), s))
		return token, s
	}

	alice, aliceS := login("alice")
	bob, _ := login("bob")
	send(front, alice, false, "42")
	send(front, alice, true, "42")
	send(front, bob, false, "42")
	send(front, bob, false, "43") // company_forbidden
	send(front, "", false, "42")  // session_missing
	unknown := NewToken()
	secrets = append(secrets, unknown)
	send(front, unknown, false, "42") // session_unknown
	require.NoError(t, client.Revoke(ctx, aliceS.ID))
	require.NoError(t, f.store.Revoke(ctx, aliceS.ID))
	send(front, alice, false, "42") // session_revoked
	require.NoError(t, client.RevokeUser(ctx, "bob"))
	send(front, bob, true, "42") // session_revoked
	// Passports replayed straight at the cell: expired, tampered, oversized.
	require.NotEmpty(t, passports)
	f.clk.Advance(time.Hour)
	for _, p := range append([]string(nil), passports...) {
		for _, bad := range []string{p, p[:len(p)-4] + "AAAA", p + strings.Repeat("A", MaxPassportSize)} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+bad)
			w := httptest.NewRecorder()
			cell.ServeHTTP(w, r)
			bodies.WriteString(w.Body.String())
			require.Equal(t, http.StatusUnauthorized, w.Code)
		}
	}
	secrets = append(secrets, passports...)

	out := logs.String()
	require.Contains(t, out, "session_revoked", "the failures were logged")
	require.Contains(t, out, "passport_expired")
	require.Contains(t, out, aliceS.ID, "session IDs may be logged")
	for _, s := range secrets {
		assert.NotContains(t, out, s)
		assert.NotContains(t, bodies.String(), s)
		// A passport's signature alone would be enough to recognise it.
		if i := strings.LastIndexByte(s, '.'); i > 0 {
			assert.NotContains(t, out, s[i+1:])
		}
	}
}
