package reference

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPages(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":    {Data: []byte(`<script nonce="{{.Nonce}}">zone={{.Zone}}</script>`)},
		"assets/app.js": {Data: []byte(`console.log("app")`)},
	}
	p, err := Pages("/webclients/", fsys, "us01", APIBase{})
	require.NoError(t, err)
	h := must.Build(edge.SecurityHeaders(edge.WithCSP("script-src 'nonce-{nonce}'")))(p)

	for _, c := range []struct {
		method, path string
		status       int
		body, ctype  string
	}{
		{"GET", "/webclients/assets/app.js", 200, `console.log("app")`, "text/javascript; charset=utf-8"},
		{"GET", "/webclients/", 200, `zone="us01"`, "text/html; charset=utf-8"},
		{"GET", "/webclients/projects/7/rfis", 200, `zone="us01"`, "text/html; charset=utf-8"},
		{"GET", "/webclients/index.html", 200, `zone="us01"`, "text/html; charset=utf-8"},
		{"GET", "/webclients/assets", 200, `zone="us01"`, "text/html; charset=utf-8"},
		{"POST", "/webclients/", 405, `"code":"method_not_allowed"`, "application/problem+json"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		assert.Equal(t, c.status, rec.Code, "%s %s", c.method, c.path)
		assert.Contains(t, rec.Body.String(), c.body, "%s %s", c.method, c.path)
		assert.Equal(t, c.ctype, rec.Header().Get("Content-Type"), "%s %s", c.method, c.path)
		if strings.HasPrefix(c.ctype, "text/html") {
			nonce := strings.TrimSuffix(strings.TrimPrefix(rec.Header().Get("Content-Security-Policy"), "script-src 'nonce-"), "'")
			require.NotEmpty(t, nonce)
			assert.Contains(t, rec.Body.String(), `nonce="`+strings.ReplaceAll(nonce, "+", "&#43;")+`"`)
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"), "a page with a nonce is never cached")
		}
	}
}

func TestPagesRefusesBadConfiguration(t *testing.T) {
	_, err := Pages("webclients", WebClients(), "us01", APIBase{})
	assert.Error(t, err)
	_, err = Pages("/webclients/", fstest.MapFS{}, "us01", APIBase{})
	assert.Error(t, err, "no index.html")
	_, err = Pages("/webclients/", WebClients(), "us01", APIBase{})
	assert.NoError(t, err, "the embedded app")
}

func TestDirectory(t *testing.T) {
	dir, err := LoadDirectory("")
	require.NoError(t, err)
	for company, want := range map[string]string{"1": "us01", "2": "us02", "3": "uk01", "4": "uk01"} {
		z, err := dir.Lookup(t.Context(), company)
		require.NoError(t, err)
		assert.Equal(t, want, z.Name)
		assert.Equal(t, string(Regions[want]), z.Residency, "each company has the residency of its zone")
	}
	_, err = LoadDirectory("testdata/missing.json")
	assert.Error(t, err)
	var zones map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(directoryJSON, &zones))
	assert.Len(t, zones, len(Zones)+1, "one company per zone, and company 4 of the location policy")
}

func TestEmbeddedDirectoryWebBaseURLs(t *testing.T) {
	dir, err := EmbeddedDirectory(map[string]string{"us02": "http://127.0.0.1:9082"})
	require.NoError(t, err)
	z, err := dir.Lookup(t.Context(), "2")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:9082", z.WebBaseURL, "given: replaced")
	z, err = dir.Lookup(t.Context(), "1")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8081", z.WebBaseURL, "not given: as embedded")
	_, err = EmbeddedDirectory(map[string]string{"us01": "not a url"})
	assert.Error(t, err, "a bad URL is refused")
}
