package standin

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testKey = []byte(strings.Repeat("k", 32))

func newStore(t *testing.T) (http.Handler, *hmacsig.Signer, string) {
	t.Helper()
	dir := t.TempDir()
	v, err := hmacsig.NewVerifier(hmacsig.Keys{Current: testKey})
	require.NoError(t, err)
	s, err := hmacsig.NewSigner(testKey)
	require.NoError(t, err)
	h, err := NewObjectStore(dir, v, nil)
	require.NoError(t, err)
	return h, s, dir
}

func TestObjectStore(t *testing.T) {
	h, s, dir := newStore(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	sign := func(method, path string) string {
		u, err := s.SignURL(method, srv.URL+path, time.Minute)
		require.NoError(t, err)
		return u
	}
	put := func(target string, body io.Reader, length int64) *http.Response {
		req, err := http.NewRequest(http.MethodPut, target, body)
		require.NoError(t, err)
		req.ContentLength = length
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}

	doc1 := upload.Params{CompanyID: "1", ProjectID: "7", UploadID: "doc-1"}
	doc1Part2 := doc1
	doc1Part2.PartNumber = 2
	resp := put(sign("PUT", ObjectPath("us01", doc1)), strings.NewReader("hello"), 5)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, `"5d41402abc4b2a76b9719d911017c592"`, resp.Header.Get("ETag"), "MD5, quoted, as S3")
	resp = put(sign("PUT", ObjectPath("us01", doc1Part2)), strings.NewReader("part two"), 8)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	for path, want := range map[string]string{ObjectPath("us01", doc1): "hello", ObjectPath("us01", doc1Part2): "part two"} {
		r, err := http.Get(sign("GET", path))
		require.NoError(t, err)
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		assert.Equal(t, http.StatusOK, r.StatusCode, path)
		assert.Equal(t, want, string(b), path)
	}

	for name, c := range map[string]struct {
		method, url string
		status      int
	}{
		"unsigned PUT":        {"PUT", srv.URL + "/objects/us01/1/7/doc-2", 403},
		"PUT URL for a GET":   {"GET", sign("PUT", ObjectPath("us01", doc1)), 403},
		"unknown object":      {"GET", sign("GET", "/objects/us01/1/7/nope"), 404},
		"another company":     {"GET", sign("GET", "/objects/us01/4/7/doc-1"), 404},
		"bad zone":            {"GET", sign("GET", "/objects/US01/1/7/doc-1"), 400},
		"bad company":         {"GET", sign("GET", "/objects/us01/01/7/doc-1"), 400},
		"bad project":         {"GET", sign("GET", "/objects/us01/1/p7/doc-1"), 400},
		"dot upload":          {"GET", sign("GET", "/objects/us01/1/7/doc.1"), 400},
		"old path, no tenant": {"GET", sign("GET", "/objects/us01/doc-1"), 404},
		"bad part":            {"GET", sign("GET", "/objects/us01/1/7/doc-1/parts/02"), 400},
		"part out of range":   {"GET", sign("GET", "/objects/us01/1/7/doc-1/parts/10001"), 400},
	} {
		req, err := http.NewRequest(c.method, c.url, strings.NewReader("x"))
		require.NoError(t, err)
		r, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		r.Body.Close()
		assert.Equal(t, c.status, r.StatusCode, name)
	}
	_, err := os.Stat(filepath.Join(dir, "us01", "1", "7", "doc-2"))
	assert.True(t, os.IsNotExist(err))
}

func TestObjectStoreKeepsNothingOfAShortOrUnsizedBody(t *testing.T) {
	h, s, dir := newStore(t)
	target, err := s.SignURL("PUT", ObjectPath("us01", upload.Params{CompanyID: "1", ProjectID: "7", UploadID: "short"}), time.Minute)
	require.NoError(t, err)

	req := httptest.NewRequest(http.MethodPut, target, strings.NewReader("abc"))
	req.ContentLength = 10 // the client went away after 3 bytes
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), `"code":"object_incomplete"`)

	req = httptest.NewRequest(http.MethodPut, target, strings.NewReader("abc"))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusLengthRequired, rec.Code)

	entries, err := os.ReadDir(filepath.Join(dir, "us01", "1", "7"))
	if err == nil {
		assert.Empty(t, entries, "no object and no temporary file left")
	}
}
