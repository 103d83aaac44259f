package standin

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/passport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCell(t *testing.T) {
	key, err := passport.GenerateKey(passport.EdDSA)
	require.NoError(t, err)
	issuer, err := passport.NewIssuer("https://auth.test", key)
	require.NoError(t, err)
	v, err := passport.NewVerifier(passport.Expected{Issuer: "https://auth.test", Audience: "us01"}, passport.WithInProcessIssuer(issuer))
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

	token, _, err := issuer.Mint(s, passport.Scope{CompanyID: "1", Zone: "us01"})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, "/rest/v1.0/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec = httptest.NewRecorder()
	cell.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `"company_id":"1"`)

	other, _, err := issuer.Mint(s, passport.Scope{CompanyID: "1", Zone: "us02"})
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+other)
	rec = httptest.NewRecorder()
	cell.ServeHTTP(rec, req)
	assert.Contains(t, rec.Body.String(), `"code":"passport_invalid"`, "a passport for another cell")
}

func TestCellUploadURL(t *testing.T) {
	key, err := passport.GenerateKey(passport.EdDSA)
	require.NoError(t, err)
	issuer, err := passport.NewIssuer("https://auth.test", key)
	require.NoError(t, err)
	v, err := passport.NewVerifier(passport.Expected{Issuer: "https://auth.test", Audience: "us01"}, passport.WithStaticKeys(issuer.PublicKeys()...))
	require.NoError(t, err)
	uploadKey := bytes.Repeat([]byte{7}, 32)
	signer, err := hmacsig.NewSigner(uploadKey)
	require.NoError(t, err)
	verifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: uploadKey})
	require.NoError(t, err)

	_, err = NewCell(CellConfig{Zone: "us01", Verifier: v, UploadSigner: signer})
	assert.Error(t, err, "a signer without a storage URL")
	cell, err := NewCell(CellConfig{Zone: "us01", Verifier: v, UploadSigner: signer, UploadStorage: "http://storage.test/"})
	require.NoError(t, err)

	s := passport.Session{ID: "sid", User: "alice", Companies: []string{"1"}, Expires: time.Now().Add(time.Hour)}
	token, _, err := issuer.Mint(s, passport.Scope{CompanyID: "1", Zone: "us01"})
	require.NoError(t, err)
	post := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		cell.ServeHTTP(rec, req)
		return rec
	}

	rec := post("/rest/v1.0/companies/1/projects/7/uploads")
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	var u UploadURL
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &u))
	require.True(t, strings.HasPrefix(u.URL, "http://storage.test/rest/v2.1/companies/1/projects/7/uploads/web-"), u.URL)
	signed, err := url.Parse(u.URL)
	require.NoError(t, err)
	put := httptest.NewRequest(http.MethodPut, signed.RequestURI(), nil) // as the storage host receives it
	put.Host = signed.Host
	assert.NoError(t, verifier.Verify(put), "signed with the upload key for a PUT")
	assert.NotEqual(t, u.URL, post("/rest/v1.0/companies/1/projects/7/uploads").Body.String(), "a new upload id each time")

	assert.Contains(t, post("/rest/v1.0/companies/2/projects/7/uploads").Body.String(), `"code":"company_forbidden"`,
		"only for the passport's company")
	assert.Contains(t, post("/rest/v1.0/companies/1/projects/x7/uploads").Body.String(), `"code":"project_invalid"`)

	req := httptest.NewRequest(http.MethodPost, "/rest/v1.0/companies/1/projects/7/uploads", nil)
	rec = httptest.NewRecorder()
	cell.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "no passport, no URL")
}

func TestCellCookieSecureOverTLS(t *testing.T) {
	key, err := passport.GenerateKey(passport.EdDSA)
	require.NoError(t, err)
	issuer, err := passport.NewIssuer("https://auth.test", key)
	require.NoError(t, err)
	v, err := passport.NewVerifier(passport.Expected{Issuer: "https://auth.test", Audience: "us01"}, passport.WithStaticKeys(issuer.PublicKeys()...))
	require.NoError(t, err)
	store, err := passport.NewMemoryStore()
	require.NoError(t, err)
	trusted := func(r *http.Request) bool { return r.Header.Get("X-Test-Trusted") == "yes" }
	cell, err := NewCell(CellConfig{Zone: "us01", Verifier: v, Sessions: store, Trust: trusted})
	require.NoError(t, err)
	secure := func(header map[string]string) bool {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("user=alice"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Procore-Company-Id", "1")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		cell.ServeHTTP(rec, req)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		return rec.Result().Cookies()[0].Secure
	}
	assert.False(t, secure(nil))
	assert.False(t, secure(map[string]string{"X-Forwarded-Proto": "https"}), "an untrusted hop's word")
	assert.True(t, secure(map[string]string{"X-Forwarded-Proto": "https", "X-Test-Trusted": "yes"}))
	assert.False(t, secure(map[string]string{"X-Forwarded-Proto": "http", "X-Test-Trusted": "yes"}))
}
