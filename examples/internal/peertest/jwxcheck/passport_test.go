// Package jwxcheck_test verifies cellgate's passports with an independent
// JWT library (lestrrat-go/jwx) against the JWKS the issuer serves. It lives
// in the examples module so jwx never enters the library's go.mod, and uses
// only passport's public API.
package jwxcheck_test

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	jwxjwk "github.com/lestrrat-go/jwx/v3/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/passport"
)

const (
	testIss  = "https://auth.test"
	testZone = "us01"
)

// newClock returns a fake clock on a whole second (JWT times are whole
// seconds); tests move it instead of sleeping.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) }

// TestPassportsVerifyIndependently checks our passports with another JWT
// library against the JWKS we serve, for both algorithms.
func TestPassportsVerifyIndependently(t *testing.T) {
	for _, alg := range []string{passport.EdDSA, passport.ES256} {
		t.Run(alg, func(t *testing.T) {
			clk := newClock()
			key, err := passport.GenerateKey(alg)
			require.NoError(t, err)
			next, err := passport.GenerateKey(passport.EdDSA)
			require.NoError(t, err)
			issuer, err := passport.NewIssuer(testIss, key, passport.WithClock(clk.Now), passport.WithNextKey(next))
			require.NoError(t, err)
			s := passport.Session{ID: "s-1", User: "u-1", Companies: []string{"42"}, Created: clk.Now(), Expires: clk.Now().Add(time.Hour)}
			token, _, err := issuer.Mint(s, passport.Scope{CompanyID: "42", Zone: testZone})
			require.NoError(t, err)

			w := httptest.NewRecorder()
			issuer.JWKSHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
			require.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, "public, max-age=300", w.Header().Get("Cache-Control"))
			assert.Equal(t, "application/jwk-set+json", w.Header().Get("Content-Type"))

			set, err := jwxjwk.Parse(w.Body.Bytes())
			require.NoError(t, err)
			assert.Equal(t, 2, set.Len(), "active and next key are published")
			tok, err := jwxjwt.Parse([]byte(token), jwxjwt.WithKeySet(set),
				jwxjwt.WithIssuer(testIss), jwxjwt.WithAudience(testZone), jwxjwt.WithClock(jwxjwt.ClockFunc(clk.Now)))
			require.NoError(t, err)
			sub, _ := tok.Subject()
			assert.Equal(t, "u-1", sub)
			var company, sid, zoneName string
			require.NoError(t, tok.Get("company_id", &company))
			require.NoError(t, tok.Get("sid", &sid))
			require.NoError(t, tok.Get("zone", &zoneName))
			assert.Equal(t, []string{"42", "s-1", testZone}, []string{company, sid, zoneName})
			exp, _ := tok.Expiration()
			assert.Equal(t, clk.Now().Add(passport.DefaultLifetime), exp)
			// Verifiers require iat and bound exp − iat (RFC 8725): our
			// passports carry it, as another library reads it.
			iat, ok := tok.IssuedAt()
			require.True(t, ok, "iat")
			assert.Equal(t, clk.Now(), iat)
			assert.LessOrEqual(t, exp.Sub(iat), passport.DefaultMaxLifetime)
			jti, _ := tok.JwtID()
			assert.Len(t, jti, 22)

			// The token never carries anything of the session but its ID.
			parsed, _, err := jwt.NewParser().ParseUnverified(token, &passport.Claims{})
			require.NoError(t, err)
			assert.Equal(t, key.ID, parsed.Header["kid"])
			assert.Equal(t, alg, parsed.Header["alg"])
		})
	}
}

// TestKeyIDIsThumbprint checks that a key's ID, as the JWKS publishes it,
// is its RFC 7638 thumbprint computed by an independent implementation.
func TestKeyIDIsThumbprint(t *testing.T) {
	for _, alg := range []string{passport.EdDSA, passport.ES256} {
		k, err := passport.GenerateKey(alg)
		require.NoError(t, err)
		issuer, err := passport.NewIssuer(testIss, k)
		require.NoError(t, err)
		keys := issuer.JWKS().Keys
		require.Len(t, keys, 1)
		raw, err := json.Marshal(keys[0])
		require.NoError(t, err)
		jk, err := jwxjwk.ParseKey(raw)
		require.NoError(t, err)
		tp, err := jk.Thumbprint(crypto.SHA256)
		require.NoError(t, err)
		assert.Equal(t, k.ID, base64.RawURLEncoding.EncodeToString(tp), alg)
	}
}
