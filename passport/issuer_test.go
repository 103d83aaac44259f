package passport

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMintRefusals(t *testing.T) {
	clk := newClock()
	key, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	issuer, err := NewIssuer(testIss, key, WithClock(clk.Now))
	require.NoError(t, err)
	live := Session{ID: "s", User: "u", Companies: []string{"42"}, Created: clk.Now(), Expires: clk.Now().Add(time.Hour)}
	revoked := live
	revoked.Revoked = clk.Now()
	expired := live
	expired.Expires = clk.Now()
	tests := []struct {
		name    string
		s       Session
		company string
		want    error
	}{
		{"revoked", revoked, "42", ErrSessionRevoked},
		{"expired", expired, "42", ErrSessionExpired},
		{"other company", live, "43", ErrCompanyForbidden},
	}
	for _, tt := range tests {
		_, _, err := issuer.Mint(tt.s, Scope{CompanyID: tt.company, Zone: testZone})
		assert.ErrorIs(t, err, tt.want, tt.name)
	}
	_, _, err = issuer.Mint(live, Scope{CompanyID: "42", Zone: ""})
	assert.Error(t, err)

	// A passport never outlives its session.
	short := live
	short.Expires = clk.Now().Add(time.Minute)
	_, c, err := issuer.Mint(short, Scope{CompanyID: "", Zone: testZone})
	require.NoError(t, err)
	assert.Equal(t, short.Expires, c.ExpiresAt.Time)
}

func TestIssuerRotation(t *testing.T) {
	clk := newClock()
	a, _ := GenerateKey(EdDSA)
	b, _ := GenerateKey(EdDSA)
	c, _ := GenerateKey(ES256)
	issuer, err := NewIssuer(testIss, a, WithClock(clk.Now), WithLifetime(5*time.Minute))
	require.NoError(t, err)
	ids := func() []string {
		var out []string
		for _, k := range issuer.JWKS().Keys {
			out = append(out, k.Kid)
		}
		return out
	}
	assert.ErrorIs(t, issuer.Rotate(), ErrNoNextKey)
	require.NoError(t, issuer.Stage(b))
	assert.Equal(t, []string{a.ID, b.ID}, ids(), "the next key is published before it signs")
	assert.Equal(t, a.ID, issuer.ActiveKeyID())

	clk.Advance(DefaultJWKSMaxAge - time.Second)
	assert.ErrorIs(t, issuer.Rotate(), ErrNextKeyTooNew, "cells may still cache a JWKS without it")
	clk.Advance(time.Second)
	require.NoError(t, issuer.Rotate())
	assert.Equal(t, b.ID, issuer.ActiveKeyID())
	assert.Equal(t, []string{b.ID, a.ID}, ids(), "the retired key stays published")
	require.NoError(t, issuer.Stage(c))
	assert.Equal(t, []string{b.ID, c.ID, a.ID}, ids())

	clk.Advance(5*time.Minute + DefaultLeeway)
	assert.Equal(t, []string{b.ID, c.ID, a.ID}, ids(), "kept until its last passport has expired")
	clk.Advance(time.Second)
	assert.Equal(t, []string{b.ID, c.ID}, ids())

	assert.Error(t, issuer.Stage(b), "the active key cannot be staged")
}

func TestNewIssuerRefusesBadConfig(t *testing.T) {
	key, _ := GenerateKey(EdDSA)
	for name, fn := range map[string]func() error{
		"no iss":            func() error { _, err := NewIssuer("", key); return err },
		"no key":            func() error { _, err := NewIssuer(testIss, SigningKey{ID: "k"}); return err },
		"bad kid":           func() error { _, err := NewIssuer(testIss, SigningKey{ID: "a b", Key: key.Key}); return err },
		"long lifetime":     func() error { _, err := NewIssuer(testIss, key, WithLifetime(2*time.Hour)); return err },
		"negative lifetime": func() error { _, err := NewIssuer(testIss, key, WithLifetime(-time.Second)); return err },
		"bad previous":      func() error { _, err := NewIssuer(testIss, key, WithPreviousKeys(PublicKey{ID: "x"})); return err },
	} {
		assert.Error(t, fn(), name)
	}
	_, err := GenerateKey("HS256")
	assert.Error(t, err)
}

func TestJWKRoundTrip(t *testing.T) {
	for _, alg := range []string{EdDSA, ES256} {
		k, err := GenerateKey(alg)
		require.NoError(t, err)
		j, err := toJWK(k.Public())
		require.NoError(t, err)
		// The key ID is the key's RFC 7638 thumbprint (checked against an
		// independent implementation in the examples module's jwxcheck).
		assert.Equal(t, k.ID, j.thumbprint())

		back, err := j.PublicKey()
		require.NoError(t, err)
		assert.Equal(t, k.Public(), back)
	}
	for name, j := range map[string]JWK{
		"RSA":          {Kty: "RSA", Kid: "r"},
		"alg mismatch": {Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(make([]byte, 32)), Kid: "k", Alg: ES256},
		"enc key":      {Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(make([]byte, 32)), Kid: "k", Use: "enc"},
		"short x":      {Kty: "OKP", Crv: "Ed25519", X: "AAAA", Kid: "k"},
		"bad kid":      {Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(make([]byte, 32)), Kid: "../k"},
		"off curve":    {Kty: "EC", Crv: "P-256", X: b64.EncodeToString(make([]byte, 32)), Y: b64.EncodeToString(make([]byte, 32)), Kid: "k"},
	} {
		_, err := j.PublicKey()
		assert.Error(t, err, name)
	}
}
