package passport

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/zone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var storageKey = bytes.Repeat([]byte{7}, 32)

// recordingStore is a MemoryStore that records the revocation calls it gets,
// so tests see which argument crossed the wire.
type recordingStore struct {
	*MemoryStore
	mu    sync.Mutex
	calls []string
}

func (s *recordingStore) RevokeUser(ctx context.Context, user string) error {
	s.mu.Lock()
	s.calls = append(s.calls, "user:"+user)
	s.mu.Unlock()
	return s.MemoryStore.RevokeUser(ctx, user)
}

func newStorage(t *testing.T) (*recordingStore, *StorageService, *hmacsig.Signer) {
	t.Helper()
	mem, err := NewMemoryStore()
	require.NoError(t, err)
	store := &recordingStore{MemoryStore: mem}
	v, err := hmacsig.NewVerifier(hmacsig.Keys{Current: storageKey})
	require.NoError(t, err)
	svc, err := NewStorageService(store, v, WithPathPrefix("/internal"))
	require.NoError(t, err)
	signer, err := hmacsig.NewSigner(storageKey)
	require.NoError(t, err)
	return store, svc, signer
}

func TestStoreClientOverStorageService(t *testing.T) {
	ctx := context.Background()
	store, svc, signer := newStorage(t)
	for name, base := range map[string]http.RoundTripper{
		"binding": edge.Binding(svc),
		"network": nil,
	} {
		t.Run(name, func(t *testing.T) {
			baseURL := "http://sessions.internal/internal"
			if base == nil {
				srv := httptest.NewServer(svc)
				defer srv.Close()
				baseURL = srv.URL + "/internal"
				base = srv.Client().Transport
			}
			c, err := NewStoreClient(Endpoint{URL: baseURL, Transport: &hmacsig.Transport{Signer: signer, Base: base}})
			require.NoError(t, err)
			var notices []Revocation
			defer c.Subscribe(func(r Revocation) { notices = append(notices, r) })()

			token := NewToken()
			now := time.Now().Truncate(time.Second).UTC()
			// A user id with characters that must be escaped in a path.
			user := "ops/alice smith+1?x=%2F"
			s := Session{ID: NewSessionID(), User: user, Companies: []string{"42"}, Created: now, Expires: now.Add(time.Hour),
				Attrs: map[string]string{"login": "sso"}}
			require.NoError(t, c.Put(ctx, TokenKey(token), s))
			got, err := c.Get(ctx, TokenKey(token))
			require.NoError(t, err)
			assert.Equal(t, s, got)

			_, err = c.Get(ctx, TokenKey(NewToken()))
			assert.ErrorIs(t, err, ErrSessionUnknown)
			assert.ErrorIs(t, c.Put(ctx, TokenKey(token), Session{ID: "x"}), ErrSessionInvalid)

			require.NoError(t, c.RevokeUser(ctx, user))
			got, err = store.Get(ctx, TokenKey(token))
			require.NoError(t, err)
			assert.True(t, got.IsRevoked(), "the user's session is revoked in the store")
			assert.Equal(t, "user:"+user, store.calls[len(store.calls)-1], "the escaped id arrived intact")
			require.NoError(t, c.Revoke(ctx, s.ID))
			require.NoError(t, c.RevokeCompany(ctx, "42"))
			assert.Equal(t, []Revocation{{User: user}, {SessionID: s.ID}, {Company: "42"}}, notices)
		})
	}
}

func TestStorageServiceRefusesUnsigned(t *testing.T) {
	_, svc, signer := newStorage(t)
	key := TokenKey(NewToken())
	tests := []struct {
		name, method, target string
	}{
		{"read", http.MethodGet, "/internal/session?key=" + key},
		{"create", http.MethodPut, "/internal/session?key=" + key},
		{"revoke", http.MethodPost, "/internal/revoke/user/alice"},
		{"unknown route", http.MethodGet, "/internal/nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			svc.ServeHTTP(w, httptest.NewRequest(tt.method, tt.target, strings.NewReader("{}")))
			assert.Equal(t, http.StatusForbidden, w.Code)
			assert.Equal(t, "signature_missing", problemCode(t, w))

			// Signed for another method: refused as well.
			other := http.MethodDelete
			signed, err := signer.SignURL(other, tt.target, time.Minute)
			require.NoError(t, err)
			w = httptest.NewRecorder()
			svc.ServeHTTP(w, httptest.NewRequest(tt.method, signed, strings.NewReader("{}")))
			assert.Equal(t, http.StatusForbidden, w.Code)
		})
	}
}

func TestStorageServiceBadInput(t *testing.T) {
	_, svc, signer := newStorage(t)
	// send signs as StoreClient does: a PUT binds its body's Content-Digest,
	// except to a target ending in "#unbound".
	send := func(method, target, body string) *httptest.ResponseRecorder {
		target, unbound := strings.CutSuffix(target, "#unbound")
		u, err := url.Parse(target)
		require.NoError(t, err)
		digest := hmacsig.ContentDigest([]byte(body))
		if method == http.MethodPut && !unbound {
			u, err = signer.SignContent(method, u, digest, time.Minute)
		} else {
			u, err = signer.Sign(method, u, time.Minute)
		}
		require.NoError(t, err)
		w := httptest.NewRecorder()
		r := httptest.NewRequest(method, u.String(), strings.NewReader(body))
		r.Header.Set(hmacsig.ContentDigestHeader, digest)
		svc.ServeHTTP(w, r)
		return w
	}
	key := TokenKey(NewToken())
	now := time.Now().UTC().Format(time.RFC3339)
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	valid := `{"id":"s","user":"u","created":"` + now + `","expires":"` + later + `"}`
	tests := []struct {
		name, method, target, body string
		status                     int
		code                       string
	}{
		{"create", http.MethodPut, "/internal/session?key=" + key, valid, 204, ""},
		{"create, white space after the value", http.MethodPut, "/internal/session?key=" + key, valid + " \r\n", 204, ""},
		{"body not bound", http.MethodPut, "/internal/session?key=" + key + "#unbound", valid, 403, "content_digest_missing"},
		{"trailing brace", http.MethodPut, "/internal/session?key=" + key, valid + `}`, 400, "session_invalid"},
		{"unknown field", http.MethodPut, "/internal/session?key=" + key, `{"id":"s","token":"x"}`, 400, "session_invalid"},
		{"trailing data", http.MethodPut, "/internal/session?key=" + key, valid + `{}`, 400, "session_invalid"},
		{"oversized", http.MethodPut, "/internal/session?key=" + key, `{"id":"` + strings.Repeat("x", maxSessionBody) + `"}`, 400, "session_invalid"},
		{"invalid session", http.MethodPut, "/internal/session?key=" + key, `{"id":"s"}`, 400, "session_invalid"},
		{"not a key", http.MethodGet, "/internal/session?key=abc", "", 401, "session_unknown"},
		{"method", http.MethodDelete, "/internal/session?key=" + key, "", 405, "method_not_allowed"},
		{"revoke by GET", http.MethodGet, "/internal/revoke/user/u", "", 405, "method_not_allowed"},
		{"revoke what", http.MethodPost, "/internal/revoke/planet/earth", "", 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := send(tt.method, tt.target, tt.body)
			assert.Equal(t, tt.status, w.Code, w.Body.String())
			assert.Equal(t, tt.code, problemCode(t, w))
		})
	}
}

func TestAuthServiceInternalOnly(t *testing.T) {
	f := newFixture(t)
	token, _ := f.login(t, "u-1", "42")
	v, err := hmacsig.NewVerifier(hmacsig.Keys{Current: storageKey})
	require.NoError(t, err)
	signer, err := hmacsig.NewSigner(storageKey)
	require.NoError(t, err)
	signedAuth, err := NewAuthService(f.store, f.issuer, testDirectory(t), WithTrust(edge.TrustNone), WithSignedCalls(v))
	require.NoError(t, err)

	reqBody := `{"session_key":"` + TokenKey(token) + `","company_id":"42","zone":"us01"}`
	// Mounted publicly by accident: a direct request is refused, body or not.
	for _, h := range []http.Handler{f.auth, signedAuth} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/passports", strings.NewReader(reqBody)))
		assert.Equal(t, http.StatusForbidden, w.Code)
		assert.Equal(t, "internal_only", problemCode(t, w))
	}
	// A binding is refused when only signed calls are trusted…
	gw, err := NewGateway(testZone, testDirectory(t), Endpoint{URL: authURL, Transport: edge.Binding(signedAuth)})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	gw.Middleware(http.NotFoundHandler()).ServeHTTP(w, r.WithContext(zone.ContextWithCompany(r.Context(), "42")))
	assert.Equal(t, "auth_unavailable", problemCode(t, w))

	// …and a signed call over the network gets a passport.
	srv := httptest.NewServer(signedAuth)
	defer srv.Close()
	gw, err = NewGateway(testZone, testDirectory(t), Endpoint{URL: srv.URL + "/passports", Transport: &hmacsig.Transport{Signer: signer, Base: srv.Client().Transport, ContentDigest: true}}, WithClock(f.clk.Now))
	require.NoError(t, err)
	var got string
	w = httptest.NewRecorder()
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	gw.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("Authorization") })).
		ServeHTTP(w, r.WithContext(zone.ContextWithCompany(r.Context(), "42")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	c, err := f.verifier.Verify(context.Background(), strings.TrimPrefix(got, "Bearer "))
	require.NoError(t, err)
	assert.Equal(t, "u-1", c.Subject)

	// A signed call must bind its body, or one captured URL would mint for
	// any session and company within its lifetime: unbound, it is refused;
	// bound, replayed with another body, it is refused at the body's end.
	post := func(target, body string, digest string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
		if digest != "" {
			r.Header.Set(hmacsig.ContentDigestHeader, digest)
		}
		w := httptest.NewRecorder()
		signedAuth.ServeHTTP(w, r)
		return w
	}
	unbound, err := signer.SignURL(http.MethodPost, "/passports", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "internal_only", problemCode(t, post(unbound, reqBody, "")), "an unbound signed call was answered")
	digest := hmacsig.ContentDigest([]byte(reqBody))
	boundURL, err := signer.SignContent(http.MethodPost, &url.URL{Path: "/passports"}, digest, time.Minute)
	require.NoError(t, err)
	bound := boundURL.RequestURI()
	assert.Equal(t, http.StatusOK, post(bound, reqBody, digest).Code)
	other, _ := f.login(t, "u-2", "42")
	otherBody := `{"session_key":"` + TokenKey(other) + `","company_id":"42","zone":"us01"}`
	assert.Equal(t, "content_digest_mismatch", problemCode(t, post(bound, otherBody, digest)), "a replay with another body was answered")
}

func TestAuthServiceBadRequests(t *testing.T) {
	f := newFixture(t)
	call := func(method, body string) *httptest.ResponseRecorder {
		req, err := http.NewRequest(method, authURL, strings.NewReader(body))
		require.NoError(t, err)
		resp, err := edge.Binding(f.auth).RoundTrip(req)
		require.NoError(t, err)
		w := httptest.NewRecorder()
		w.Code = resp.StatusCode
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		_, _ = w.Body.ReadFrom(resp.Body)
		resp.Body.Close()
		return w
	}
	key := TokenKey(NewToken())
	for name, tc := range map[string]struct {
		method, body, code string
	}{
		"GET":           {http.MethodGet, "", "method_not_allowed"},
		"not JSON":      {http.MethodPost, "x", "request_invalid"},
		"unknown field": {http.MethodPost, `{"session_key":"` + key + `","zone":"us01","token":"t"}`, "request_invalid"},
		"bad key":       {http.MethodPost, `{"session_key":"abc","zone":"us01"}`, "request_invalid"},
		"no zone":       {http.MethodPost, `{"session_key":"` + key + `"}`, "request_invalid"},
		"unknown":       {http.MethodPost, `{"session_key":"` + key + `","zone":"us01"}`, "session_unknown"},
	} {
		assert.Equal(t, tc.code, problemCode(t, call(tc.method, tc.body)), name)
	}
}

// capturingTransport sends through base and keeps what a signed PUT carried
// on the wire (target, headers, body), as a log, a proxy or a tap would.
type capturingTransport struct {
	base   http.RoundTripper
	target string
	header http.Header
	body   []byte
}

func (c *capturingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body.Close()
		c.target, c.header, c.body = r.URL.RequestURI(), r.Header.Clone(), body
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return c.base.RoundTrip(r)
}

// One signed PUT /session URL, replayed within its lifetime with another
// body, must not store that body: the signature covers the body through its
// Content-Digest (issue 22, item 10). The same body again is harmless and
// accepted, as a retry must be.
func TestStorageServiceRefusesReplayedPutWithAnotherBody(t *testing.T) {
	ctx := context.Background()
	store, svc, signer := newStorage(t)
	tap := &capturingTransport{base: edge.Binding(svc)}
	c, err := NewStoreClient(Endpoint{URL: "http://sessions.internal/internal", Transport: &hmacsig.Transport{Signer: signer, Base: tap}})
	require.NoError(t, err)

	key := TokenKey(NewToken())
	now := time.Now().Truncate(time.Second).UTC()
	s := Session{ID: NewSessionID(), User: "u-1", Companies: []string{"1"}, Created: now, Expires: now.Add(time.Hour)}
	require.NoError(t, c.Put(ctx, key, s))
	require.NotEmpty(t, tap.target)

	replay := func(body []byte, header http.Header) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPut, tap.target, bytes.NewReader(body))
		r.Header = header.Clone()
		w := httptest.NewRecorder()
		svc.ServeHTTP(w, r)
		return w
	}
	w := replay(tap.body, tap.header)
	assert.Equal(t, http.StatusNoContent, w.Code, "the same body again: %s", w.Body)

	wider := s
	wider.Companies = []string{"1", "2", "3"}
	body, err := json.Marshal(wider)
	require.NoError(t, err)
	w = replay(body, tap.header)
	assert.Equal(t, http.StatusForbidden, w.Code, w.Body.String())
	assert.Equal(t, "content_digest_mismatch", problemCode(t, w))

	// Rewriting the header to match the new body breaks the signature;
	// dropping it leaves a signed digest without its header.
	h := tap.header.Clone()
	h.Set("Content-Digest", hmacsig.ContentDigest(body))
	w = replay(body, h)
	assert.Equal(t, "signature_mismatch", problemCode(t, w))
	h.Del("Content-Digest")
	w = replay(body, h)
	assert.Equal(t, "content_digest_missing", problemCode(t, w))

	got, err := store.Get(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, []string{"1"}, got.Companies, "no replay widened the session")
}
