package passport

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forge signs, with ck's key, the claims of a passport ck's issuer would
// mint now, edited by edit, under the extra header fields in header.
func (ck cellKeys) forge(t *testing.T, header map[string]any, edit func(c *Claims)) string {
	t.Helper()
	_, claims, err := ck.issuer.Mint(ck.session, Scope{CompanyID: "42", Zone: testZone})
	require.NoError(t, err)
	c := *claims
	edit(&c)
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, &c)
	tok.Header["kid"] = ck.key.ID
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(ck.key.Key)
	require.NoError(t, err)
	return s
}

// requireCode sends token through v.Middleware and returns the problem code
// ("" for a request let through) and the status.
func requireCode(t *testing.T, v *Verifier, token string) (string, int) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(w, r)
	return problemCode(t, w), w.Code
}

// A passport signed by a known key but minted for years is refused: its
// exp may lie at most the max lifetime after its iat and after now
// (RFC 8725 §3.10). Before the fix one with exp ten years out verified.
func TestVerifierCapsPassportLifetime(t *testing.T) {
	ck := newCellKeys(t)
	now := ck.clk.Now()
	at := func(d time.Duration) *jwt.NumericDate { return jwt.NewNumericDate(now.Add(d)) }
	for _, tc := range []struct {
		name     string
		iat, exp time.Duration // from now
		code     string
	}{
		{"as minted", 0, DefaultLifetime, ""},
		{"at the bound", 0, DefaultMaxLifetime, ""},
		{"issuer clock ahead by the leeway", DefaultLeeway, DefaultLifetime + DefaultLeeway, ""},
		{"ten years", 0, 10 * 365 * 24 * time.Hour, "passport_lifetime_too_long"},
		{"a second over", 0, DefaultMaxLifetime + time.Second, "passport_lifetime_too_long"},
		// exp near, but minted an hour ago for 65 minutes.
		{"long, issued long ago", -time.Hour, 5 * time.Minute, "passport_lifetime_too_long"},
		// exp − iat is within the bound, but iat (within the leeway) is
		// in the future so exp − now is not.
		{"iat ahead, exp too far from now", DefaultLeeway, DefaultLeeway + DefaultMaxLifetime, "passport_lifetime_too_long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := ck.forge(t, nil, func(c *Claims) {
				c.IssuedAt, c.NotBefore, c.ExpiresAt = at(tc.iat), at(min(tc.iat, 0)), at(tc.exp)
			})
			code, status := requireCode(t, ck.v, tok)
			assert.Equal(t, tc.code, code)
			if tc.code != "" {
				assert.Equal(t, http.StatusUnauthorized, status)
				_, err := ck.v.Verify(context.Background(), tok)
				assert.ErrorIs(t, err, ErrPassportLifetimeTooLong)
			}
		})
	}

	// An Issuer minting hour-long passports needs verifiers told so; a
	// verifier following that Issuer (WithInProcessIssuer) knows it already.
	long, err := NewIssuer(testIss, ck.key, WithClock(ck.clk.Now), WithLifetime(time.Hour))
	require.NoError(t, err)
	tok, _, err := long.Mint(ck.session, Scope{CompanyID: "42", Zone: testZone})
	require.NoError(t, err)
	code, _ := requireCode(t, ck.v, tok)
	assert.Equal(t, "passport_lifetime_too_long", code, "default bound")
	raised, err := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithStaticKeys(ck.key.Public()), WithClock(ck.clk.Now), WithMaxLifetime(time.Hour+DefaultLeeway))
	require.NoError(t, err)
	code, _ = requireCode(t, raised, tok)
	assert.Empty(t, code, "WithMaxLifetime")
	follower, err := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithInProcessIssuer(long), WithClock(ck.clk.Now))
	require.NoError(t, err)
	code, _ = requireCode(t, follower, tok)
	assert.Empty(t, code, "WithInProcessIssuer")
	code, _ = requireCode(t, follower, ck.forge(t, nil, func(c *Claims) { c.ExpiresAt = at(2 * time.Hour) }))
	assert.Equal(t, "passport_lifetime_too_long", code, "WithInProcessIssuer bounds by the Issuer's lifetime")
}

// iat is required, and not in the future beyond the leeway. Before the fix
// a passport without iat verified.
func TestVerifierRequiresIssuedAt(t *testing.T) {
	ck := newCellKeys(t)
	now := ck.clk.Now()
	for _, tc := range []struct {
		name string
		iat  *jwt.NumericDate
		code string
	}{
		{"no iat", nil, "passport_invalid"},
		{"iat beyond the leeway", jwt.NewNumericDate(now.Add(DefaultLeeway + time.Second)), "passport_invalid"},
		{"iat within the leeway", jwt.NewNumericDate(now.Add(DefaultLeeway)), ""},
		{"iat now", jwt.NewNumericDate(now), ""},
	} {
		tok := ck.forge(t, nil, func(c *Claims) { c.IssuedAt = tc.iat })
		code, _ := requireCode(t, ck.v, tok)
		assert.Equal(t, tc.code, code, tc.name)
	}
	// What the Issuer mints carries iat.
	_, c, err := ck.issuer.Mint(ck.session, Scope{CompanyID: "42", Zone: testZone})
	require.NoError(t, err)
	require.NotNil(t, c.IssuedAt)
	assert.Equal(t, now, c.IssuedAt.Time)
}

// A crit header names extensions the recipient must understand or refuse
// the JWS (RFC 7515 §4.1.11); this verifier understands none. Before the
// fix golang-jwt ignored crit and these verified.
func TestVerifierRefusesCrit(t *testing.T) {
	ck := newCellKeys(t)
	for name, header := range map[string]map[string]any{
		"unknown extension":      {"crit": []string{"urn:example:must-check"}, "urn:example:must-check": true},
		"b64 (RFC 7797)":         {"crit": []string{"b64"}, "b64": true},
		"a registered parameter": {"crit": []string{"exp"}},
		"empty list":             {"crit": []string{}},
		"not a list":             {"crit": "b64"},
	} {
		tok := ck.forge(t, header, func(*Claims) {})
		code, _ := requireCode(t, ck.v, tok)
		assert.Equal(t, "passport_invalid", code, name)
	}
	code, _ := requireCode(t, ck.v, ck.forge(t, nil, func(*Claims) {}))
	assert.Empty(t, code, "the same passport without crit")
}

// jwksHTTP is a JWKS endpoint over real HTTP whose set can be replaced and
// which can be made to fail.
type jwksHTTP struct {
	srv   *httptest.Server
	calls atomic.Int64
	fail  atomic.Bool
	mu    sync.Mutex
	set   JWKS
}

func newJWKSHTTP(t *testing.T, keys ...PublicKey) *jwksHTTP {
	j := &jwksHTTP{}
	j.serve(keys...)
	j.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.calls.Add(1)
		if j.fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		j.mu.Lock()
		set := j.set
		j.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(j.srv.Close)
	return j
}

// serve makes the endpoint publish keys.
func (j *jwksHTTP) serve(keys ...PublicKey) {
	set := JWKS{}
	for _, k := range keys {
		jwk, err := toJWK(k)
		if err != nil {
			panic(err)
		}
		set.Keys = append(set.Keys, jwk)
	}
	j.mu.Lock()
	j.set = set
	j.mu.Unlock()
}

// A key withdrawn from the JWKS while the JWKS cannot be fetched stays
// usable only until the max stale after the last good fetch; then every
// passport is refused with 503 passport_keys_stale until a fetch succeeds.
// Before the fix the withdrawn key verified for as long as fetches failed
// (here 30 days).
func TestVerifierJWKSKeysGoStale(t *testing.T) {
	clk := newClock()
	leaked, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	fresh, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	oldIssuer, err := NewIssuer(testIss, leaked, WithClock(clk.Now))
	require.NoError(t, err)
	newIssuer, err := NewIssuer(testIss, fresh, WithClock(clk.Now))
	require.NoError(t, err)
	jwks := newJWKSHTTP(t, leaked.Public())
	v, err := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithJWKS(jwks.srv.URL+"/jwks.json"), WithLoopbackHTTP(), WithClock(clk.Now))
	require.NoError(t, err)
	s := Session{ID: "s", User: "u", Created: clk.Now(), Expires: clk.Now().Add(60 * 24 * time.Hour)}
	verify := func(i *Issuer) error {
		tok, _, err := i.Mint(s, Scope{CompanyID: "", Zone: testZone})
		require.NoError(t, err)
		_, err = v.Verify(context.Background(), tok)
		return err
	}
	require.NoError(t, verify(oldIssuer))
	fetchedAt := clk.Now()

	// The key leaks: it is withdrawn from the set, but the cell cannot
	// fetch the set any more.
	jwks.serve(fresh.Public())
	jwks.fail.Store(true)
	clk.Advance(DefaultJWKSMaxAge + time.Second)
	require.NoError(t, verify(oldIssuer), "within the bound, stale keys still serve")
	assert.EqualValues(t, 2, jwks.calls.Load(), "and a fetch was tried")
	clk.Advance(fetchedAt.Add(DefaultJWKSMaxStale - time.Second).Sub(clk.Now()))
	require.NoError(t, verify(oldIssuer), "a second before the bound")
	clk.Advance(time.Second) // the bound
	for _, i := range []*Issuer{oldIssuer, newIssuer} {
		err := verify(i)
		assert.ErrorIs(t, err, ErrKeysStale, "past the bound, no key is trusted")
	}
	tok, _, err := oldIssuer.Mint(s, Scope{CompanyID: "", Zone: testZone})
	require.NoError(t, err)
	code, status := requireCode(t, v, tok)
	assert.Equal(t, "passport_keys_stale", code)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	for day := range 30 {
		clk.Advance(24 * time.Hour)
		assert.ErrorIs(t, verify(oldIssuer), ErrKeysStale, "day %d of the outage", day+1)
	}

	// The endpoint recovers: the withdrawn key is refused, the new one works.
	jwks.fail.Store(false)
	clk.Advance(time.Minute)
	require.NoError(t, verify(newIssuer))
	assert.ErrorIs(t, verify(oldIssuer), ErrPassportInvalid)
}

// A JWKS whose max-age is longer than half the max stale is fetched again
// after half the max stale, so a failing endpoint is retried before the
// keys stop being trusted.
func TestVerifierJWKSRefetchesBeforeStale(t *testing.T) {
	clk := newClock()
	key, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	issuer, err := NewIssuer(testIss, key, WithClock(clk.Now), WithJWKSMaxAge(24*time.Hour))
	require.NoError(t, err)
	srv := &jwksServer{issuer: issuer}
	v, err := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithJWKS("https://auth.test/jwks"), WithJWKSTransport(srv), WithClock(clk.Now), WithJWKSMaxStale(10*time.Minute))
	require.NoError(t, err)
	s := Session{ID: "s", User: "u", Created: clk.Now(), Expires: clk.Now().Add(48 * time.Hour)}
	verify := func() error {
		tok, _, err := issuer.Mint(s, Scope{CompanyID: "", Zone: testZone})
		require.NoError(t, err)
		_, err = v.Verify(context.Background(), tok)
		return err
	}
	require.NoError(t, verify())
	clk.Advance(5*time.Minute - time.Second)
	require.NoError(t, verify())
	assert.EqualValues(t, 1, srv.calls.Load(), "fresh for half the max stale")
	clk.Advance(time.Second)
	require.NoError(t, verify())
	assert.EqualValues(t, 2, srv.calls.Load(), "fetched again at half the max stale, not after a day")
}
