package passport

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGatewayInjectsPassport(t *testing.T) {
	for _, asCookie := range []bool{false, true} {
		t.Run(map[bool]string{false: "bearer", true: "cookie"}[asCookie], func(t *testing.T) {
			f := newFixture(t)
			token, s := f.login(t, "u-7", "42", "43")
			w := f.do(token, "42", asCookie)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			got := body(t, w)
			assert.Equal(t, map[string]string{"sub": "u-7", "company_id": "42", "zone": testZone, "sid": s.ID, "ctx_company": "42"}, got)

			h := <-f.seen
			assert.NotContains(t, strings.Join(h.Values("Cookie"), ";"), token, "session cookie forwarded")
			assert.NotContains(t, h.Get("Authorization"), token, "session token forwarded")
			assert.True(t, strings.HasPrefix(h.Get("Authorization"), "Bearer ey"), h.Get("Authorization"))
			if asCookie {
				assert.Equal(t, []string{"theme=dark; lang=en"}, h.Values("Cookie"), "other cookies kept")
			}
		})
	}
}

func TestGatewayRefusals(t *testing.T) {
	f := newFixture(t)
	token, s := f.login(t, "u-1", "42")
	expiredTok, _ := f.login(t, "u-2", "42")
	require.NoError(t, f.store.Put(context.Background(), TokenKey(expiredTok), Session{
		ID: "s-exp", User: "u-2", Companies: []string{"42"}, Created: f.clk.Now().Add(-2 * time.Hour), Expires: f.clk.Now().Add(-time.Minute),
	}))
	tests := []struct {
		name, token, company string
		status               int
		code                 string
	}{
		{"no session", "", "42", 401, "session_missing"},
		{"unknown session", NewToken(), "42", 401, "session_unknown"},
		{"expired session", expiredTok, "42", 401, "session_expired"},
		{"company not allowed", token, "99", 403, "company_forbidden"},
		{"allowed", token, "42", 200, ""},
		{"company of another zone", token, "7", 421, "zone_misdirected"},
		{"unknown company", token, "5", 404, "company_unknown"},
		{"no company on a route that needs one", token, "", 400, "company_missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(tt.token, tt.company, false)
			assert.Equal(t, tt.status, w.Code, w.Body.String())
			assert.Equal(t, tt.code, problemCode(t, w))
		})
	}
	require.NoError(t, f.store.Revoke(context.Background(), s.ID))
	w := f.do(token, "42", false)
	assert.Equal(t, "session_revoked", problemCode(t, w))
}

func TestGatewayForgedPassportHeader(t *testing.T) {
	forged := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."
	t.Run("authorization", func(t *testing.T) {
		f := newFixture(t)
		token, _ := f.login(t, "u-1", "42")
		// A browser with a session cookie and a forged Authorization: the
		// forged value is taken for a session token and matches none.
		w := f.do(token, "42", true, "Authorization", "Bearer "+forged)
		assert.Equal(t, "session_unknown", problemCode(t, w))
		// Without any session, a forged passport is no session either.
		w = f.do("", "42", false, "Authorization", "Bearer "+forged)
		assert.Equal(t, "session_unknown", problemCode(t, w))
	})
	t.Run("custom header and variants", func(t *testing.T) {
		f := newFixture(t, WithPassportHeader("Cellgate-Passport"), WithPublic(func(r *http.Request) bool { return r.URL.Path == "/public" }))
		token, _ := f.login(t, "u-1", "42")
		w := f.do(token, "42", false, "Cellgate-Passport", forged, "cellgate_passport", forged, "CELLGATE-PASSPORT", forged)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		h := <-f.seen
		assert.Len(t, h.Values("Cellgate-Passport"), 1)
		assert.NotEqual(t, forged, h.Get("Cellgate-Passport"))
		assert.Empty(t, h.Values("Cellgate_passport"))
		assert.Empty(t, h.Get("Authorization"), "the Bearer session must not travel on")

		// A public route with no session: the forged header is still gone.
		r := httptest.NewRequest(http.MethodGet, "/public", nil)
		r.Header.Set("Cellgate-Passport", forged)
		rec := httptest.NewRecorder()
		f.front.ServeHTTP(rec, r)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, "yes", body(t, rec)["anonymous"])
		assert.Empty(t, (<-f.seen).Values("Cellgate-Passport"))
	})
}

// A gateway never mints for a zone the session has
// no business in, whatever stands in front of it.
func TestGatewayDeniesZonesWithoutBusiness(t *testing.T) {
	me := func(r *http.Request) bool { return r.URL.Path == "/me" }
	f := newFixture(t, WithCompanyless(me))
	inZone, _ := f.login(t, "u-1", "8", "42")   // one company here, one in us02
	elsewhere, _ := f.login(t, "u-2", "7", "8") // companies of us02 only
	nobody, _ := f.login(t, "u-3")              // no company at all

	w := f.doPath("/me", inZone, "", false)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, map[string]string{"sub": "u-1", "company_id": "", "zone": testZone, "sid": body(t, w)["sid"], "ctx_company": ""}, body(t, w))

	for name, token := range map[string]string{"companies of another zone": elsewhere, "no company": nobody} {
		w := f.doPath("/me", token, "", false)
		assert.Equal(t, http.StatusForbidden, w.Code, name)
		assert.Equal(t, "zone_forbidden", problemCode(t, w), name)
	}
	// A route not declared company-less needs a company.
	w = f.doPath("/projects", inZone, "", false)
	assert.Equal(t, "company_missing", problemCode(t, w))

	// A company of another zone is refused even when the chain in front
	// claims the request is for this zone (zone.Resolve skipped, a stale
	// Assign): the gateway asks its own directory.
	r := httptest.NewRequest(http.MethodGet, "/projects", nil)
	r.Header.Set("Authorization", "Bearer "+elsewhere)
	ctx := zone.ContextWithZone(zone.ContextWithCompany(r.Context(), "7"), zone.Zone{Name: testZone})
	rec := httptest.NewRecorder()
	f.gw.Middleware(http.NotFoundHandler()).ServeHTTP(rec, r.WithContext(ctx))
	assert.Equal(t, http.StatusMisdirectedRequest, rec.Code)
	assert.Equal(t, "zone_misdirected", problemCode(t, rec))
}

// The authentication service checks the zone again (defence in depth): a
// caller that skips the gateway's checks still gets no passport.
func TestAuthServiceChecksZone(t *testing.T) {
	f := newFixture(t)
	token, _ := f.login(t, "u-1", "7", "8", "42")
	for _, tt := range []struct {
		company, zone string
		status        int
		code          string
	}{
		{"42", testZone, 200, ""},
		{"7", testZone, 421, "zone_misdirected"},
		{"5", testZone, 403, "company_forbidden"},
		{"", testZone, 200, ""},
		{"", "uk01", 403, "zone_forbidden"},
		{"", "../x", 400, "request_invalid"},
	} {
		body := `{"session_key":"` + TokenKey(token) + `","company_id":"` + tt.company + `","zone":"` + tt.zone + `"}`
		r := httptest.NewRequest(http.MethodPost, authURL, strings.NewReader(body))
		resp, err := edge.Binding(f.auth).RoundTrip(r)
		require.NoError(t, err)
		w := httptest.NewRecorder()
		w.Code = resp.StatusCode
		maps.Copy(w.Header(), resp.Header)
		_, _ = io.Copy(w.Body, resp.Body)
		resp.Body.Close()
		assert.Equal(t, tt.status, w.Code, "%s in %s: %s", tt.company, tt.zone, w.Body)
		assert.Equal(t, tt.code, problemCode(t, w), "%s in %s", tt.company, tt.zone)
	}
}

// Found by attack: a chain without edge.StripInternal in front (as the
// package doc once showed) let forged internal headers reach the cell.
func TestGatewayForwardsCheckedCompany(t *testing.T) {
	f := newFixture(t)
	token, _ := f.login(t, "u-1", "42")
	w := f.do(token, "42", false, "Cellgate-Company-Id", "7", "Cellgate_Company_Id", "8", "CELLGATE-ZONE", "us02")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	h := <-f.seen
	assert.Equal(t, []string{"42"}, h.Values("Cellgate-Company-Id"))
	assert.Equal(t, []string{testZone}, h.Values("Cellgate-Zone"))
	for k := range h {
		if edge.HasHeaderNamePrefix(k, "Cellgate-") {
			assert.Contains(t, []string{"Cellgate-Company-Id", "Cellgate-Zone"}, k, "a forged spelling reached the cell")
		}
	}
}

func TestGatewayPublicRoute(t *testing.T) {
	f := newFixture(t, WithPublic(func(r *http.Request) bool { return true }))
	w := f.do("", "", false)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "yes", body(t, w)["anonymous"])
	// A refused session on a public route goes on anonymously.
	w = f.do(NewToken(), "", false)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "yes", body(t, w)["anonymous"])
	// A valid one still gets its passport, for a session with business in
	// this zone.
	token, _ := f.login(t, "u-1", "42")
	w = f.do(token, "", false)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "u-1", body(t, w)["sub"])
}

func TestGatewayCache(t *testing.T) {
	f := newFixture(t)
	token, _ := f.login(t, "u-1", "42", "43")
	for range 5 {
		require.Equal(t, http.StatusOK, f.do(token, "42", false).Code)
	}
	assert.EqualValues(t, 1, f.authCalls.Load(), "one call per session and company")
	require.Equal(t, http.StatusOK, f.do(token, "43", false).Code)
	assert.EqualValues(t, 2, f.authCalls.Load(), "another company is another passport")

	f.clk.Advance(DefaultCacheTTL - time.Second)
	require.Equal(t, http.StatusOK, f.do(token, "42", false).Code)
	assert.EqualValues(t, 2, f.authCalls.Load())
	f.clk.Advance(time.Second)
	require.Equal(t, http.StatusOK, f.do(token, "42", false).Code)
	assert.EqualValues(t, 3, f.authCalls.Load(), "an entry lives no longer than the cache TTL")
}

func TestGatewayCacheBoundedByPassportLife(t *testing.T) {
	// A passport living 30 s is cached for at most 15 s, whatever the TTL.
	f := newFixture(t, WithCacheTTL(time.Hour))
	var err error
	f.issuer, err = NewIssuer(testIss, f.key, WithClock(f.clk.Now), WithLifetime(30*time.Second))
	require.NoError(t, err)
	f.auth.issuer = f.issuer
	token, _ := f.login(t, "u-1", "42")
	require.Equal(t, http.StatusOK, f.do(token, "42", false).Code)
	f.clk.Advance(14 * time.Second)
	require.Equal(t, http.StatusOK, f.do(token, "42", false).Code)
	assert.EqualValues(t, 1, f.authCalls.Load())
	f.clk.Advance(time.Second)
	require.Equal(t, http.StatusOK, f.do(token, "42", false).Code)
	assert.EqualValues(t, 2, f.authCalls.Load())
}

func TestGatewaySingleflight(t *testing.T) {
	f := newFixture(t)
	token, _ := f.login(t, "u-1", "42")
	// Hold the authentication service until every request is waiting.
	release := make(chan struct{})
	inner := f.gw.rt
	f.gw.rt = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		<-release
		return inner.RoundTrip(r)
	})
	const n = 200
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+token)
			r = r.WithContext(zone.ContextWithCompany(r.Context(), "42"))
			w := httptest.NewRecorder()
			f.gw.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, r)
			codes[i] = w.Code
		})
	}
	// Requests that arrive after the call completes hit the cache, so the
	// count is one however they interleave.
	close(release)
	wg.Wait()
	for _, c := range codes {
		require.Equal(t, http.StatusOK, c)
	}
	assert.EqualValues(t, 1, f.authCalls.Load())
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestGatewayRevocationNotice(t *testing.T) {
	tests := []struct {
		name   string
		revoke func(f *fixture, s Session) error
	}{
		{"session", func(f *fixture, s Session) error { return f.store.Revoke(context.Background(), s.ID) }},
		{"user", func(f *fixture, s Session) error { return f.store.RevokeUser(context.Background(), s.User) }},
		{"company", func(f *fixture, s Session) error { return f.store.RevokeCompany(context.Background(), "42") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			token, s := f.login(t, "u-1", "42", "43")
			other, _ := f.login(t, "u-2", "44")
			require.Equal(t, http.StatusOK, f.do(token, "43", false).Code)
			require.Equal(t, http.StatusOK, f.do(other, "44", false).Code)
			require.NoError(t, tt.revoke(f, s))
			// Replay right after revocation, well inside the cache TTL.
			w := f.do(token, "43", false)
			assert.Equal(t, "session_revoked", problemCode(t, w))
			assert.Equal(t, http.StatusOK, f.do(other, "44", false).Code, "other sessions live on")
		})
	}
}

func TestGatewayRotationFlushesCache(t *testing.T) {
	f := newFixture(t)
	a, _ := f.login(t, "u-a", "42")
	b, _ := f.login(t, "u-b", "42")
	require.Equal(t, http.StatusOK, f.do(a, "42", false).Code)
	next, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	require.NoError(t, f.issuer.Stage(next))
	f.clk.Advance(DefaultJWKSMaxAge)
	require.NoError(t, f.issuer.Rotate())
	f.verifier.keys = staticKeysOf(f.issuer.PublicKeys())

	// b's first passport is signed with the new key: a's cached one,
	// signed by the retired key, is dropped at once.
	require.Equal(t, http.StatusOK, f.do(b, "42", false).Code)
	calls := f.authCalls.Load()
	require.Equal(t, http.StatusOK, f.do(a, "42", false).Code)
	assert.Equal(t, calls+1, f.authCalls.Load())
}

func staticKeysOf(keys []PublicKey) staticKeys {
	s := make(staticKeys)
	for _, k := range keys {
		s[k.ID] = k
	}
	return s
}

func TestGatewayZoneMisdirected(t *testing.T) {
	f := newFixture(t)
	token, _ := f.login(t, "u-1")
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	r = r.WithContext(zone.ContextWithZone(r.Context(), zone.Zone{Name: "us02"}))
	w := httptest.NewRecorder()
	f.gw.Middleware(http.NotFoundHandler()).ServeHTTP(w, r)
	assert.Equal(t, "zone_misdirected", problemCode(t, w))
}

func TestGatewayAuthUnavailable(t *testing.T) {
	tests := []struct {
		name string
		rt   http.RoundTripper
	}{
		{"transport error", roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, context.DeadlineExceeded })},
		{"500", edge.Binding(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { edge.WriteProblem(w, r, edge.ErrInternal) }))},
		{"not a problem", edge.Binding(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "session_revoked", http.StatusUnauthorized)
		}))},
		{"garbage 200", edge.Binding(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("{")) }))},
		{"public mount", edge.Binding(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { edge.WriteProblem(w, r, ErrInternalOnly) }))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw, err := NewGateway(testZone, testDirectory(t), Endpoint{URL: authURL, Transport: tt.rt})
			require.NoError(t, err)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+NewToken())
			w := httptest.NewRecorder()
			gw.Middleware(http.NotFoundHandler()).ServeHTTP(w, r.WithContext(zone.ContextWithCompany(r.Context(), "42")))
			assert.Equal(t, http.StatusBadGateway, w.Code)
			assert.Equal(t, "auth_unavailable", problemCode(t, w))
		})
	}
}

// A session store that is down is told as it is, 503 with the store's
// code: the gateway fails closed and the client knows to retry.
func TestGatewayPassesStoreOutage(t *testing.T) {
	down := edge.Binding(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		edge.WriteProblem(w, r, ErrSessionStoreUnavailable)
	}))
	gw, err := NewGateway(testZone, testDirectory(t), Endpoint{URL: authURL, Transport: down})
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+NewToken())
	w := httptest.NewRecorder()
	gw.Middleware(http.NotFoundHandler()).ServeHTTP(w, r.WithContext(zone.ContextWithCompany(r.Context(), "42")))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "session_store_unavailable", problemCode(t, w))
}

// A failing authentication service costs one call per session and company
// per AuthBackoff, however many requests arrive meanwhile.
func TestGatewayBacksOffAfterAuthFailure(t *testing.T) {
	clk := newClock()
	var calls atomic.Int64
	failing := edge.Binding(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		edge.WriteProblem(w, r, edge.ErrInternal)
	}))
	gw, err := NewGateway(testZone, testDirectory(t), Endpoint{URL: authURL, Transport: failing}, WithClock(clk.Now))
	require.NoError(t, err)
	token := NewToken()
	do := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		gw.Middleware(http.NotFoundHandler()).ServeHTTP(w, r.WithContext(zone.ContextWithCompany(r.Context(), "42")))
		return w
	}
	for range 20 {
		w := do()
		assert.Equal(t, http.StatusBadGateway, w.Code)
		assert.Equal(t, "auth_unavailable", problemCode(t, w))
		assert.NotEmpty(t, w.Header().Get("Retry-After"))
	}
	assert.EqualValues(t, 1, calls.Load(), "one call for the session while it backs off")
	clk.Advance(AuthBackoff)
	do()
	assert.EqualValues(t, 2, calls.Load(), "asked again after the back-off")
}

func TestNewGatewayRefusesBadConfig(t *testing.T) {
	dir := testDirectory(t)
	for name, fn := range map[string]func() (*Gateway, error){
		"no zone":      func() (*Gateway, error) { return NewGateway("", dir, Endpoint{URL: authURL}) },
		"bad zone":     func() (*Gateway, error) { return NewGateway("US 01", dir, Endpoint{URL: authURL}) },
		"no directory": func() (*Gateway, error) { return NewGateway(testZone, nil, Endpoint{URL: authURL}) },
		"relative URL": func() (*Gateway, error) { return NewGateway(testZone, dir, Endpoint{URL: "/auth"}) },
		"ftp URL":      func() (*Gateway, error) { return NewGateway(testZone, dir, Endpoint{URL: "ftp://auth/x"}) },
		"bad header": func() (*Gateway, error) {
			return NewGateway(testZone, dir, Endpoint{URL: authURL}, WithPassportHeader("Bad Header"))
		},
		"bad cookie":       func() (*Gateway, error) { return NewGateway(testZone, dir, Endpoint{URL: authURL}, WithCookie("a;b")) },
		"negative entries": func() (*Gateway, error) { return NewGateway(testZone, dir, Endpoint{URL: authURL}, WithCacheSize(-1)) },
		"negative timeout": func() (*Gateway, error) {
			return NewGateway(testZone, dir, Endpoint{URL: authURL}, WithTimeout(-time.Second))
		},
	} {
		_, err := fn()
		assert.Error(t, err, name)
	}
}

func TestGatewayRequestAfterRevocationDoesNotJoinEarlierMint(t *testing.T) {
	f := newFixture(t)
	token, s := f.login(t, "u-1", "42")
	// The first call to the authentication service mints a passport while
	// the session is live, then is held; later calls pass straight through.
	minted, release, later := make(chan struct{}), make(chan struct{}), make(chan struct{}, 1)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	inner := f.gw.rt
	var calls atomic.Int64
	f.gw.rt = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := inner.RoundTrip(r)
		if calls.Add(1) == 1 {
			close(minted)
			<-release
		} else {
			later <- struct{}{}
		}
		return resp, err
	})
	serve := func() <-chan *httptest.ResponseRecorder {
		done := make(chan *httptest.ResponseRecorder, 1)
		go func() {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+token)
			r = r.WithContext(zone.ContextWithCompany(r.Context(), "42"))
			w := httptest.NewRecorder()
			f.gw.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, r)
			done <- w
		}()
		return done
	}

	first := serve()
	<-minted
	require.NoError(t, f.store.Revoke(context.Background(), s.ID))
	// A request that arrives after the revocation must ask again, not wait
	// for the passport minted before it.
	second := serve()
	select {
	case <-later:
	case w := <-second:
		t.Fatalf("answered without asking the authentication service: %d %s", w.Code, w.Body)
	case <-time.After(10 * time.Second): // reached only when the request joined the held call
		t.Fatal("the request after the revocation joined the call started before it")
	}
	assert.Equal(t, "session_revoked", problemCode(t, <-second))
	close(release)
	assert.Equal(t, http.StatusOK, (<-first).Code, "the request from before the revocation")
	assert.Equal(t, "session_revoked", problemCode(t, f.do(token, "42", false)), "the earlier passport was not cached")
}

// The gateway's company_missing names the header clients name companies with.
func TestGatewayCompanyMissingNamesHeader(t *testing.T) {
	for name, tc := range map[string]struct {
		opt    GatewayOption
		detail string
	}{
		"none":    {WithoutCompanyHeader(), "Missing company id!"},
		"other":   {WithCompanyHeader("X-Tenant"), "Missing X-Tenant header!"},
		"default": {WithCompanyHeader(zone.DefaultCompanyHeader), zone.ErrCompanyMissing.Detail()},
		"zero":    {WithCompanyHeader(""), zone.ErrCompanyMissing.Detail()},
	} {
		f := newFixture(t, tc.opt)
		token, _ := f.login(t, "u-1", "42")
		w := f.do(token, "", false)
		require.Equal(t, "company_missing", problemCode(t, w))
		assert.Contains(t, w.Body.String(), tc.detail, name)
	}
}

// WithoutCache turns the passport cache off: every request asks the
// authentication service. WithCacheTTL(0) is the default cache, not off.
func TestGatewayWithoutCache(t *testing.T) {
	for name, tc := range map[string]struct {
		opts  []GatewayOption
		calls int64
	}{
		"default":         {nil, 1},
		"WithCacheTTL(0)": {[]GatewayOption{WithCacheTTL(0)}, 1},
		"WithoutCache":    {[]GatewayOption{WithoutCache()}, 3},
	} {
		f := newFixture(t, tc.opts...)
		token, _ := f.login(t, "u-1", "42")
		for range 3 {
			require.Equal(t, http.StatusOK, f.do(token, "42", false).Code, name)
		}
		assert.Equal(t, tc.calls, f.authCalls.Load(), name)
	}
}
