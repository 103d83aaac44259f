package standin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/passport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCell(t *testing.T) {
	key, err := passport.GenerateKey(passport.EdDSA)
	require.NoError(t, err)
	issuer, err := passport.NewIssuer("https://auth.test", key)
	require.NoError(t, err)
	v, err := passport.NewVerifier("https://auth.test", "us01", passport.WithIssuer(issuer))
	require.NoError(t, err)
	store, err := passport.NewMemoryStore()
	require.NoError(t, err)
	now := time.Now()
	cell, err := NewCell(CellConfig{Zone: "us01", Verifier: v, Sessions: store, Now: func() time.Time { return now }})
	require.NoError(t, err)

	login := func(company, user string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"user": {user}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if company != "" {
			req.Header.Set("Procore-Company-Id", company)
		}
		rec := httptest.NewRecorder()
		cell.ServeHTTP(rec, req)
		return rec
	}

	rec := login("1", "alice")
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.Equal(t, passport.DefaultCookie, c.Name)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.NotContains(t, rec.Body.String(), c.Value, "the token travels in the cookie only")
	s, err := store.Get(context.Background(), passport.TokenKey(c.Value))
	require.NoError(t, err)
	assert.Equal(t, "alice", s.User)
	assert.Equal(t, []string{"1"}, s.Companies)
	assert.Equal(t, now.Add(8*time.Hour), s.Expires)

	assert.Contains(t, login("", "alice").Body.String(), `"code":"company_missing"`)
	assert.Contains(t, login("1", "").Body.String(), `"code":"user_invalid"`)
	assert.Contains(t, login("1", "a b").Body.String(), `"code":"user_invalid"`)
	assert.Contains(t, login("1", "..").Body.String(), `"code":"user_invalid"`, "a user no signed URL can revoke")
	assert.Contains(t, login("1", ".").Body.String(), `"code":"user_invalid"`)

	// Everything else needs a passport for this cell.
	rec = httptest.NewRecorder()
	cell.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/rest/v1.0/me", nil))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Body.String(), `"code":"passport_missing"`)

	token, _, err := issuer.Mint(s, "1", "us01")
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, "/rest/v1.0/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec = httptest.NewRecorder()
	cell.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `"company_id":"1"`)

	other, _, err := issuer.Mint(s, "1", "us02")
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+other)
	rec = httptest.NewRecorder()
	cell.ServeHTTP(rec, req)
	assert.Contains(t, rec.Body.String(), `"code":"passport_invalid"`, "a passport for another cell")
}
