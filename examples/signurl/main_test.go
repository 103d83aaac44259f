package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/hmacsig"
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

	signed, err := sign("", file, "", "put", "http://127.0.0.1:8084/rest/v2.1/companies/1/projects/7/uploads/a", time.Minute)
	require.NoError(t, err)
	assert.NotContains(t, signed, key)
	assert.NoError(t, v.Verify(request(t, "PUT", signed)), "method upper-cased and signed")
	assert.Error(t, v.Verify(request(t, "GET", signed)))

	t.Setenv("TEST_SIGNURL_KEY", strings.Repeat("cd", 32))
	fromEnv, err := sign("TEST_SIGNURL_KEY", file, "", "GET", "http://h/x", time.Minute)
	require.NoError(t, err)
	assert.Error(t, v.Verify(request(t, "GET", fromEnv)), "the environment's key wins over the file")

	_, err = sign("", filepath.Join(t.TempDir(), "missing"), "", "GET", "http://h/x", time.Minute)
	assert.Error(t, err)
}

// request is the server side of a request for the absolute URL signed.
func request(t *testing.T, method, signed string) *http.Request {
	u, err := url.Parse(signed)
	require.NoError(t, err)
	return httptest.NewRequest(method, u.RequestURI(), nil)
}
