package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSign(t *testing.T) {
	key := strings.Repeat("ab", 32)
	file := filepath.Join(t.TempDir(), "upload.key")
	require.NoError(t, os.WriteFile(file, []byte(key+"\n"), 0o600))
	raw, err := hmacsig.ParseKey(key)
	require.NoError(t, err)
	v, err := hmacsig.NewVerifier(hmacsig.Keys{Current: raw})
	require.NoError(t, err)

	signed, err := sign("", file, "", "", "put", "http://127.0.0.1:8084/rest/v2.1/companies/1/projects/7/uploads/a", time.Minute)
	require.NoError(t, err)
	assert.NotContains(t, signed, key)
	assert.NoError(t, v.Verify(request(t, "PUT", signed)), "method upper-cased and signed")
	assert.Error(t, v.Verify(request(t, "GET", signed)))

	t.Setenv("TEST_SIGNURL_KEY", strings.Repeat("cd", 32))
	fromEnv, err := sign("TEST_SIGNURL_KEY", file, "", "", "GET", "http://h/x", time.Minute)
	require.NoError(t, err)
	assert.Error(t, v.Verify(request(t, "GET", fromEnv)), "the environment's key wins over the file")

	_, err = sign("", filepath.Join(t.TempDir(), "missing"), "", "", "GET", "http://h/x", time.Minute)
	assert.Error(t, err)
}

// request is the server side of a request for the absolute URL signed.
func request(t *testing.T, method, signed string) *http.Request {
	u, err := url.Parse(signed)
	require.NoError(t, err)
	return httptest.NewRequest(method, u.RequestURI(), nil)
}

// -body binds the file's bytes: the URL verifies with its Content-Digest
// and the body it names, and not with another body.
func TestSignBody(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "sessions.key")
	require.NoError(t, os.WriteFile(keyFile, []byte(strings.Repeat("ab", 32)), 0o600))
	body := []byte(`{"id":"s","companies":["1"]}` + "\n")
	bodyFile := filepath.Join(dir, "s.json")
	require.NoError(t, os.WriteFile(bodyFile, body, 0o600))

	digest, err := contentDigest(bodyFile)
	require.NoError(t, err)
	assert.Equal(t, hmacsig.ContentDigest(body), digest)
	signed, err := sign("", keyFile, "", digest, "PUT", "http://127.0.0.1:8085/session?key=k", time.Minute)
	require.NoError(t, err)

	raw, err := hmacsig.ParseKey(strings.Repeat("ab", 32))
	require.NoError(t, err)
	v, err := hmacsig.NewVerifier(hmacsig.Keys{Current: raw})
	require.NoError(t, err)
	h := must.Build(hmacsig.Require(v, hmacsig.RequireContentDigest("PUT")))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	for b, want := range map[string]int{string(body): http.StatusOK, `{"id":"s","companies":["1","2"]}`: http.StatusForbidden} {
		u, err := url.Parse(signed)
		require.NoError(t, err)
		r := httptest.NewRequest(http.MethodPut, u.RequestURI(), strings.NewReader(b))
		r.Header.Set(hmacsig.ContentDigestHeader, digest)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, want, w.Code, b)
	}
}
