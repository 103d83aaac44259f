package reference

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func named(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) })
}

func TestStrangler(t *testing.T) {
	h, err := Strangler([]string{"GET /rest/v1.0/projects/{projectId}/rfis", "/rest/v2.0/"}, named("legacy"), named("replacement"))
	require.NoError(t, err)
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/rest/v1.0/projects/7/rfis", "replacement"},
		{"HEAD", "/rest/v1.0/projects/7/rfis", "replacement"},
		{"POST", "/rest/v1.0/projects/7/rfis", "legacy"},
		{"GET", "/rest/v1.0/projects/7/rfis/3", "legacy"},
		{"GET", "/rest/v1.0/projects/7", "legacy"},
		{"PUT", "/rest/v2.0/anything/below", "replacement"},
		{"GET", "/", "legacy"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if c.method != "HEAD" {
			assert.Equal(t, c.want, rec.Body.String(), "%s %s", c.method, c.path)
		} else {
			assert.Equal(t, http.StatusOK, rec.Code)
		}
	}
}

func TestStranglerRefusesBadConfiguration(t *testing.T) {
	for name, patterns := range map[string][]string{
		"malformed":   {"GET /a/{b"},
		"conflicting": {"GET /a/{x}", "GET /a/{y}"},
	} {
		_, err := Strangler(patterns, named("legacy"), named("replacement"))
		assert.Error(t, err, name)
	}
	_, err := Strangler([]string{"/x/"}, named("legacy"), nil)
	assert.Error(t, err, "patterns without a replacement")
	h, err := Strangler(nil, named("legacy"), nil)
	require.NoError(t, err, "no patterns: everything stays on the legacy backend")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x/", nil))
	assert.Equal(t, "legacy", rec.Body.String())
}
