package passport

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/zone"
)

// sign signs claims with k under kid, bypassing the Issuer, to forge
// passports the Issuer would never mint.
func sign(t testing.TB, m jwt.SigningMethod, key any, kid string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// cellKeys is an issuer and the verifier of a cell of testZone that trusts
// its key, on one fake clock, and a session that may act for company 42.
type cellKeys struct {
	clk     *fakeclock.Clock
	key     SigningKey
	issuer  *Issuer
	v       *Verifier
	session Session
}

func newCellKeys(t *testing.T) cellKeys {
	t.Helper()
	clk := newClock()
	key, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	issuer, err := NewIssuer(testIss, key, WithClock(clk.Now))
	require.NoError(t, err)
	v, err := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithStaticKeys(key.Public()), WithClock(clk.Now))
	require.NoError(t, err)
	session := Session{ID: "s-1", User: "u-1", Companies: []string{"42"}, Created: clk.Now(), Expires: clk.Now().Add(time.Hour)}
	return cellKeys{clk: clk, key: key, issuer: issuer, v: v, session: session}
}

func TestVerifierAttacks(t *testing.T) {
	ck := newCellKeys(t)
	clk, key, issuer, v, session := ck.clk, ck.key, ck.issuer, ck.v, ck.session

	good, claims, err := issuer.Mint(session, Scope{CompanyID: "42", Zone: testZone})
	require.NoError(t, err)
	other, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	ecKey, err := GenerateKey(ES256)
	require.NoError(t, err)
	valid := func(edit func(c *Claims)) *Claims {
		c := *claims
		c.Audience = append(jwt.ClaimStrings(nil), claims.Audience...)
		edit(&c)
		return &c
	}
	now := clk.Now()
	pub := []byte(key.Key.Public().(ed25519.PublicKey))
	tamper := func(tok string) string {
		parts := strings.Split(tok, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"u-1"`, `"u-0"`, 1)))
		return strings.Join(parts, ".")
	}
	wrongIssuer, err := NewIssuer("https://evil.test", key, WithClock(clk.Now))
	require.NoError(t, err)
	otherCell, _, err := issuer.Mint(session, Scope{CompanyID: "42", Zone: "us02"})
	require.NoError(t, err)
	fromEvil, _, err := wrongIssuer.Mint(session, Scope{CompanyID: "42", Zone: testZone})
	require.NoError(t, err)

	tests := []struct {
		name   string
		header string // whole Authorization value; "" sends none
		code   string
	}{
		{"valid", "Bearer " + good, ""},
		{"lower-case scheme", "bearer " + good, ""},
		{"missing", "", "passport_missing"},
		{"not bearer", "Basic " + good, "passport_invalid"},
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, key.ID, claims), "passport_invalid"},
		{"HS256 with the public key", "Bearer " + sign(t, jwt.SigningMethodHS256, pub, key.ID, claims), "passport_invalid"},
		{"ES256 header on an Ed25519 kid", "Bearer " + sign(t, jwt.SigningMethodES256, ecKey.Key, key.ID, claims), "passport_invalid"},
		{"unknown kid", "Bearer " + sign(t, jwt.SigningMethodEdDSA, other.Key, other.ID, claims), "passport_invalid"},
		{"right kid, wrong key", "Bearer " + sign(t, jwt.SigningMethodEdDSA, other.Key, key.ID, claims), "passport_invalid"},
		{"no kid", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, "", claims), "passport_invalid"},
		{"kid with path characters", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, "../../etc/passwd", claims), "passport_invalid"},
		{"kid with URL", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, "https://evil.test/jwks", claims), "passport_invalid"},
		{"expired", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, key.ID, valid(func(c *Claims) {
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-DefaultLeeway - time.Second))
		})), "passport_expired"},
		{"expired within leeway", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, key.ID, valid(func(c *Claims) {
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-DefaultLeeway + time.Second))
		})), ""},
		{"expired and for another cell", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, key.ID, valid(func(c *Claims) {
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Hour))
			c.Audience = jwt.ClaimStrings{"us02"}
		})), "passport_invalid"},
		{"not yet valid", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, key.ID, valid(func(c *Claims) {
			c.NotBefore = jwt.NewNumericDate(now.Add(10 * time.Minute))
		})), "passport_invalid"},
		{"issued in the future", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, key.ID, valid(func(c *Claims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(10 * time.Minute))
		})), "passport_invalid"},
		{"wrong aud", "Bearer " + otherCell, "passport_invalid"},
		{"two audiences", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, key.ID, valid(func(c *Claims) {
			c.Audience = jwt.ClaimStrings{testZone, "us02"}
		})), "passport_invalid"},
		{"zone claim disagrees with aud", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, key.ID, valid(func(c *Claims) { c.Zone = "us02" })), "passport_invalid"},
		{"wrong iss", "Bearer " + fromEvil, "passport_invalid"},
		{"no exp", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, key.ID, valid(func(c *Claims) { c.ExpiresAt = nil })), "passport_invalid"},
		{"no nbf", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, key.ID, valid(func(c *Claims) { c.NotBefore = nil })), "passport_invalid"},
		{"no sid", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, key.ID, valid(func(c *Claims) { c.SessionID = "" })), "passport_invalid"},
		{"no sub", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, key.ID, valid(func(c *Claims) { c.Subject = "" })), "passport_invalid"},
		{"no jti", "Bearer " + sign(t, jwt.SigningMethodEdDSA, key.Key, key.ID, valid(func(c *Claims) { c.ID = "" })), "passport_invalid"},
		{"tampered claims", "Bearer " + tamper(good), "passport_invalid"},
		{"garbage", "Bearer not.a.jwt", "passport_invalid"},
		{"oversized", "Bearer " + good + "." + strings.Repeat("A", MaxPassportSize), "passport_invalid"},
	}
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := ClaimsFromContext(r.Context())
		_, _ = w.Write([]byte(c.Subject))
	}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tt.code, problemCode(t, w), w.Body.String())
			if tt.code == "" {
				assert.Equal(t, "u-1", w.Body.String())
			} else {
				assert.Equal(t, http.StatusUnauthorized, w.Code)
			}
		})
	}
}

func TestVerifierExpiresWithClock(t *testing.T) {
	f := newFixture(t)
	pp, _, err := f.issuer.Mint(Session{ID: "s", User: "u", Created: f.clk.Now(), Expires: f.clk.Now().Add(time.Hour)}, Scope{CompanyID: "", Zone: testZone})
	require.NoError(t, err)
	_, err = f.verifier.Verify(context.Background(), pp)
	require.NoError(t, err)
	f.clk.Advance(DefaultLifetime + DefaultLeeway + time.Second)
	_, err = f.verifier.Verify(context.Background(), pp)
	assert.ErrorIs(t, err, ErrPassportExpired)
}

func TestNewVerifierRefusesBadConfig(t *testing.T) {
	key, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	k := WithStaticKeys(key.Public())
	for name, opts := range map[string][]VerifierOption{
		"no keys":                {},
		"both key sources":       {k, WithJWKS("https://auth.test/jwks.json")},
		"http JWKS":              {WithJWKS("http://auth.test/jwks.json")},
		"http JWKS, loopback ok": {WithJWKS("http://auth.test/jwks.json"), WithLoopbackHTTP()},
		"loopback not allowed":   {WithJWKS("http://127.0.0.1:8080/jwks.json")},
		"relative JWKS":          {WithJWKS("/jwks.json")},
		"huge leeway":            {k, WithLeeway(time.Hour)},
		"bad header":             {k, WithPassportHeader("a b")},
		"bad kid":                {WithStaticKeys(PublicKey{ID: "a/b", Key: key.Public().Key})},
		"HMAC key":               {WithStaticKeys(PublicKey{ID: "h", Key: []byte("secret")})},
	} {
		_, err := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, opts...)
		assert.Error(t, err, name)
	}
	for _, u := range []string{"https://auth.test/jwks.json", "http://127.0.0.1:8080/jwks.json", "http://localhost/jwks.json", "http://[::1]/jwks.json"} {
		_, err := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithJWKS(u), WithLoopbackHTTP())
		assert.NoError(t, err, u)
	}
}

// jwksServer serves an issuer's JWKS and counts fetches; fail makes it answer 500.
type jwksServer struct {
	issuer *Issuer
	calls  atomic.Int64
	fail   atomic.Bool
}

func (s *jwksServer) RoundTrip(r *http.Request) (*http.Response, error) {
	s.calls.Add(1)
	w := httptest.NewRecorder()
	if s.fail.Load() {
		w.WriteHeader(http.StatusInternalServerError)
	} else {
		s.issuer.JWKSHandler().ServeHTTP(w, r)
	}
	return w.Result(), nil
}

func TestVerifierJWKSRefresh(t *testing.T) {
	clk := newClock()
	key, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	issuer, err := NewIssuer(testIss, key, WithClock(clk.Now))
	require.NoError(t, err)
	srv := &jwksServer{issuer: issuer}
	v, err := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithJWKS("https://auth.test/.well-known/jwks.json"), WithJWKSTransport(srv), WithClock(clk.Now))
	require.NoError(t, err)
	s := Session{ID: "s", User: "u", Created: clk.Now(), Expires: clk.Now().Add(24 * time.Hour)}
	mint := func() string {
		tok, _, err := issuer.Mint(s, Scope{CompanyID: "", Zone: testZone})
		require.NoError(t, err)
		return tok
	}
	verify := func() error { _, err := v.Verify(context.Background(), mint()); return err }

	require.NoError(t, verify())
	require.NoError(t, verify())
	assert.EqualValues(t, 1, srv.calls.Load(), "keys are fetched once and reused")

	// A passport with an unknown (well-formed) kid triggers one refresh,
	// and no second one within the rate limit.
	stranger, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	forged := sign(t, jwt.SigningMethodEdDSA, stranger.Key, stranger.ID, &Claims{})
	clk.Advance(10 * time.Second)
	_, err = v.Verify(context.Background(), forged)
	assert.ErrorIs(t, err, ErrPassportInvalid)
	assert.EqualValues(t, 2, srv.calls.Load())
	for range 5 {
		_, err = v.Verify(context.Background(), forged)
		assert.ErrorIs(t, err, ErrPassportInvalid)
	}
	assert.EqualValues(t, 2, srv.calls.Load(), "unknown kids refresh at most once per interval")

	// A kid with path characters never triggers a fetch.
	clk.Advance(time.Minute)
	_, err = v.Verify(context.Background(), sign(t, jwt.SigningMethodEdDSA, stranger.Key, "../x", &Claims{}))
	assert.ErrorIs(t, err, ErrPassportInvalid)
	assert.EqualValues(t, 2, srv.calls.Load())

	// A staged key is picked up on its first passport after rotation.
	next, err := GenerateKey(ES256)
	require.NoError(t, err)
	require.NoError(t, issuer.Stage(next))
	clk.Advance(DefaultJWKSMaxAge)
	require.NoError(t, issuer.Rotate())
	require.NoError(t, verify())
	assert.EqualValues(t, 3, srv.calls.Load())

	// A failed fetch keeps the old keys and is not retried for 30 s.
	srv.fail.Store(true)
	clk.Advance(DefaultJWKSMaxAge + time.Second) // the set is stale now
	require.NoError(t, verify(), "stale keys serve while the JWKS is down")
	assert.EqualValues(t, 4, srv.calls.Load())
	clk.Advance(29 * time.Second)
	require.NoError(t, verify())
	assert.EqualValues(t, 4, srv.calls.Load(), "failures are cached for 30 s")
	srv.fail.Store(false)
	clk.Advance(time.Second)
	require.NoError(t, verify())
	assert.EqualValues(t, 5, srv.calls.Load())
}

func TestVerifierKeysUnavailable(t *testing.T) {
	clk := newClock()
	key, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	issuer, err := NewIssuer(testIss, key, WithClock(clk.Now))
	require.NoError(t, err)
	srv := &jwksServer{issuer: issuer}
	srv.fail.Store(true)
	v, err := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithJWKS("https://auth.test/jwks"), WithJWKSTransport(srv), WithClock(clk.Now))
	require.NoError(t, err)
	tok, _, err := issuer.Mint(Session{ID: "s", User: "u", Created: clk.Now(), Expires: clk.Now().Add(time.Hour)}, Scope{CompanyID: "", Zone: testZone})
	require.NoError(t, err)

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	v.Middleware(http.NotFoundHandler()).ServeHTTP(w, r)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "passport_keys_unavailable", problemCode(t, w))
	for range 3 {
		_, err = v.Verify(context.Background(), tok)
		assert.ErrorIs(t, err, ErrKeysUnavailable)
	}
	assert.EqualValues(t, 1, srv.calls.Load(), "a failed fetch is cached negatively")
	srv.fail.Store(false)
	clk.Advance(30 * time.Second)
	_, err = v.Verify(context.Background(), tok)
	assert.NoError(t, err)
}

func TestMaxAge(t *testing.T) {
	for cc, want := range map[string]time.Duration{
		"":                         DefaultJWKSMaxAge,
		"public, max-age=600":      10 * time.Minute,
		"max-age=1":                minJWKSAge,
		"MAX-AGE=999999999":        maxJWKSAge,
		"no-cache, max-age=\"60\"": time.Minute,
		"max-age=abc":              DefaultJWKSMaxAge,
	} {
		assert.Equal(t, want, maxAge(cc), cc)
	}
}

// A cell believes the passport's company and nothing else: a company that an
// earlier stage of the cell put in the context is replaced, by "" when the
// passport names none.
func TestRequireCompanyComesFromPassportOnly(t *testing.T) {
	ck := newCellKeys(t)
	issuer, v, session := ck.issuer, ck.v, ck.session

	for _, company := range []string{"42", ""} {
		tok, _, err := issuer.Mint(session, Scope{CompanyID: company, Zone: testZone})
		require.NoError(t, err)
		var got string
		h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = zone.CompanyFromContext(r.Context())
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req = req.WithContext(zone.ContextWithCompany(req.Context(), "99"))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, company, got, "company of a passport minted for %q", company)
	}
}

// A verifier that follows an Issuer in the same process accepts the new
// key's passports right after a rotation; a snapshot of its keys does not.
func TestVerifierWithIssuerFollowsRotation(t *testing.T) {
	clk := newClock()
	first, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	issuer, err := NewIssuer(testIss, first, WithClock(clk.Now))
	require.NoError(t, err)
	live, err := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithInProcessIssuer(issuer), WithClock(clk.Now))
	require.NoError(t, err)
	snapshot, err := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithStaticKeys(issuer.PublicKeys()...), WithClock(clk.Now))
	require.NoError(t, err)

	s := Session{ID: "s-1", User: "u-1", Companies: []string{"42"}, Created: clk.Now(), Expires: clk.Now().Add(time.Hour)}
	old, _, err := issuer.Mint(s, Scope{CompanyID: "42", Zone: testZone})
	require.NoError(t, err)

	second, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	require.NoError(t, issuer.Stage(second))
	clk.Advance(DefaultJWKSMaxAge)
	require.NoError(t, issuer.Rotate())
	fresh, _, err := issuer.Mint(s, Scope{CompanyID: "42", Zone: testZone})
	require.NoError(t, err)

	for _, token := range []string{old, fresh} {
		c, err := live.Verify(context.Background(), token)
		require.NoError(t, err)
		assert.Equal(t, "u-1", c.Subject)
	}
	_, err = snapshot.Verify(context.Background(), fresh)
	assert.ErrorIs(t, err, ErrPassportInvalid, "a snapshot misses the new key")

	// Once every passport of the retired key has expired, it is gone.
	clk.Advance(DefaultLifetime + DefaultLeeway + time.Second)
	_, err = live.Verify(context.Background(), old)
	assert.Error(t, err)
	allocs := testing.AllocsPerRun(100, func() { _, _ = issuerKeys{issuer}.key(context.Background(), second.ID) })
	assert.Zero(t, allocs, "key lookup allocates")
}

func TestVerifierWithIssuerNamesItself(t *testing.T) {
	key, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	issuer, err := NewIssuer("https://other.test", key)
	require.NoError(t, err)
	_, err = NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithInProcessIssuer(issuer))
	assert.Error(t, err)
	_, err = NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithInProcessIssuer(issuer), WithStaticKeys(issuer.PublicKeys()...))
	assert.Error(t, err)
}

// The middleware of a nil Verifier or Gateway (a constructor's error
// dropped) refuses every request with 500 internal_error: no panic, and
// nothing passes unchecked.
func TestNilMiddlewareRefusesWithoutPanic(t *testing.T) {
	reached := false
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })
	var v *Verifier
	var g *Gateway
	for name, h := range map[string]http.Handler{"Verifier": v.Middleware(next), "Gateway": g.Middleware(next)} {
		w := httptest.NewRecorder()
		assert.NotPanics(t, func() { h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil)) }, name)
		assert.Equal(t, "internal_error", problemCode(t, w), name)
	}
	assert.False(t, reached, "a request passed a nil middleware")
}
