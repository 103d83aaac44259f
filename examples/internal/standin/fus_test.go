package standin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/hmacsig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFUS(t *testing.T) {
	fusKey := []byte(strings.Repeat("f", 32))
	fusV, err := hmacsig.NewVerifier(hmacsig.Keys{Current: fusKey})
	require.NoError(t, err)
	fusS, err := hmacsig.NewSigner(fusKey)
	require.NoError(t, err)
	objS, err := hmacsig.NewSigner(testKey)
	require.NoError(t, err)
	objV, err := hmacsig.NewVerifier(hmacsig.Keys{Current: testKey})
	require.NoError(t, err)
	fus, err := NewFUS(FUSConfig{Zone: "uk01", Verifier: fusV, Objects: "http://objects.test", Signer: objS})
	require.NoError(t, err)

	ask := func(target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		fus.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		return rec
	}
	signed := func(path string) string {
		u, err := fusS.SignURL(http.MethodGet, path, time.Minute)
		require.NoError(t, err)
		return u
	}

	const up = "/companies/3/projects/7/uploads/u-1/url"
	assert.Equal(t, http.StatusForbidden, ask(up).Code, "unsigned calls refused")
	for path, want := range map[string]string{
		up:                    "/objects/uk01/3/7/u-1",
		up + "?part_number=4": "/objects/uk01/3/7/u-1/parts/4",
		"/companies/4/projects/7/uploads/u-1/url": "/objects/uk01/4/7/u-1",
	} {
		rec := ask(signed(path))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var a struct{ URL string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a))
		u, err := url.Parse(a.URL)
		require.NoError(t, err)
		assert.Equal(t, "objects.test", u.Host)
		assert.Equal(t, want, u.Path)
		put := httptest.NewRequest(http.MethodPut, u.RequestURI(), nil)
		assert.NoError(t, objV.Verify(put), "presigned for PUT with the objects key")
		get := httptest.NewRequest(http.MethodGet, u.RequestURI(), nil)
		assert.Error(t, objV.Verify(get), "and for PUT only")
	}
	assert.Equal(t, http.StatusBadRequest, ask(signed(up+"?part_number=0")).Code)
	for _, bad := range []string{
		"/companies/3/projects/7/uploads/u.1/url",
		"/companies/03/projects/7/uploads/u-1/url",
		"/companies/3/projects/x/uploads/u-1/url",
		"/uploads/u-1/url", // the old route, which named no company
	} {
		assert.Equal(t, http.StatusNotFound, ask(signed(bad)).Code, bad)
	}
}
