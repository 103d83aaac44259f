package reference

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPagesCSP(t *testing.T) {
	csp, err := pagesCSP(nil)
	require.NoError(t, err)
	assert.Equal(t, edge.DefaultCSP, csp, "no origins: the default, connect-src 'self' through default-src")

	csp, err = pagesCSP([]string{"http://127.0.0.1:8080", "https://127.0.0.1:8443"})
	require.NoError(t, err)
	assert.Equal(t, edge.DefaultCSP+"; connect-src 'self' http://127.0.0.1:8080 https://127.0.0.1:8443", csp)

	for _, bad := range []string{"", "127.0.0.1:8080", "ftp://h", "http://h/path", "http://h?q", "http://h; script-src *", "http://h 'unsafe-eval'"} {
		_, err := pagesCSP([]string{bad})
		assert.Error(t, err, "%q", bad)
	}
}

func TestSchemeReachesTheCell(t *testing.T) {
	var got string
	cell := schemeTransport{base: edge.Binding(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("X-Forwarded-Proto")
	}))}
	trusted := func(r *http.Request) bool { return r.Header.Get("X-Test-Trusted") == "yes" }
	send := func(r *http.Request) string {
		got = ""
		clientScheme(trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			out, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://cell.internal/", nil)
			require.NoError(t, err)
			out.Header.Set("X-Forwarded-Proto", "http") // what the proxy says of its own inbound hop
			resp, err := cell.RoundTrip(out)
			require.NoError(t, err)
			resp.Body.Close()
		})).ServeHTTP(httptest.NewRecorder(), r)
		return got
	}

	assert.Equal(t, "http", send(httptest.NewRequest(http.MethodGet, "/", nil)))
	overTLS := httptest.NewRequest(http.MethodGet, "/", nil)
	overTLS.TLS = &tls.ConnectionState{}
	assert.Equal(t, "https", send(overTLS), "the client came over TLS")
	forged := httptest.NewRequest(http.MethodGet, "/", nil)
	forged.Header.Set("X-Forwarded-Proto", "https")
	assert.Equal(t, "http", send(forged), "an untrusted hop's word is not taken")
	router := httptest.NewRequest(http.MethodGet, "/", nil)
	router.Header.Set("X-Forwarded-Proto", "https")
	router.Header.Set("X-Test-Trusted", "yes")
	assert.Equal(t, "https", send(router), "the router said so")
}
