package upload_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/zone"
)

// newRawClient is a Client of a FUS handler that does not verify, so tests
// can see exactly what arrives and answer anything.
func newRawClient(t *testing.T, fus http.HandlerFunc, opts ...upload.Option) *upload.Client {
	t.Helper()
	signer, err := hmacsig.NewSigner(fusKey)
	require.NoError(t, err)
	opts = append([]upload.Option{upload.WithFUSTransport(edge.Binding(fus))}, opts...)
	c, err := upload.NewClient(map[string]string{"us01": "http://fus.us01.internal/base/"}, signer, opts...)
	require.NoError(t, err)
	return c
}

func TestClientRequest(t *testing.T) {
	verifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: fusKey})
	require.NoError(t, err)
	var got *http.Request
	c := newRawClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		assert.NoError(t, verifier.Verify(r), "every FUS call is signed with the FUS key")
		io.WriteString(w, `{"url":"https://bucket.s3.example.com/k?X-Amz-Signature=abc#frag","headers":{"x-ms-blob-type":"BlockBlob"},"later":1}`)
	})
	ctx := edge.WithRequestID(context.Background(), "req-1")
	target, err := c.Target(ctx, "us01", upload.Params{CompanyID: "4", ProjectID: "77", UploadID: "contract-1", PartNumber: 12})
	require.NoError(t, err)
	assert.Equal(t, "/base/companies/4/projects/77/uploads/contract-1/url", got.URL.EscapedPath(),
		"FUS learns the company and the project, not only the upload id")
	assert.Equal(t, "12", got.URL.Query().Get("part_number"))
	assert.Equal(t, "req-1", got.Header.Get(edge.RequestIDHeader))
	assert.Equal(t, "https://bucket.s3.example.com/k?X-Amz-Signature=abc", target.URL.String(), "fragment dropped")
	assert.Equal(t, http.Header{"X-Ms-Blob-Type": {"BlockBlob"}}, target.Header)
	assert.Equal(t, "https://bucket.s3.example.com/…", target.String(), "String never shows the presign")

	_, err = c.Target(ctx, "us01", upload.Params{CompanyID: "1", ProjectID: "2", UploadID: "std"})
	require.NoError(t, err)
	assert.Empty(t, got.URL.Query().Get("part_number"), "a standard upload names no part")
}

// params names a valid upload.
var params = upload.Params{CompanyID: "42", ProjectID: "7", UploadID: "u"}

// Target refuses ids that would make a FUS path ambiguous (an empty, dotted
// or slashed segment) before calling FUS, with the problem ParseParams
// gives; every id that passes is one escaped segment.
func TestClientRefusesIDs(t *testing.T) {
	c := newRawClient(t, func(http.ResponseWriter, *http.Request) { t.Error("FUS called") })
	for name, tc := range map[string]struct {
		p    upload.Params
		want error
	}{
		"empty company":      {upload.Params{ProjectID: "7", UploadID: "u"}, zone.ErrCompanyInvalid},
		"company with slash": {upload.Params{CompanyID: "1/../4", ProjectID: "7", UploadID: "u"}, zone.ErrCompanyInvalid},
		"dot-dot project":    {upload.Params{CompanyID: "1", ProjectID: "..", UploadID: "u"}, upload.ErrProjectInvalid},
		"empty project":      {upload.Params{CompanyID: "1", UploadID: "u"}, upload.ErrProjectInvalid},
		"dot-dot upload":     {upload.Params{CompanyID: "1", ProjectID: "7", UploadID: ".."}, upload.ErrUploadIDInvalid},
		"escaped slash":      {upload.Params{CompanyID: "1", ProjectID: "7", UploadID: "a%2Fb"}, upload.ErrUploadIDInvalid},
		"slash":              {upload.Params{CompanyID: "1", ProjectID: "7", UploadID: "a/b c"}, upload.ErrUploadIDInvalid},
		"part out of range":  {upload.Params{CompanyID: "1", ProjectID: "7", UploadID: "u", PartNumber: 10001}, upload.ErrPartNumberInvalid},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Target(context.Background(), "us01", tc.p)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestClientFailures(t *testing.T) {
	tests := []struct {
		name string
		fus  http.HandlerFunc
		want error
	}{
		{"404", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) }, upload.ErrUploadUnknown},
		{"409", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(409) }, upload.ErrUploadConflict},
		{"503", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }, upload.ErrFUSUnavailable},
		{"403 (signature refused)", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(403) }, upload.ErrFUSUnavailable},
		{"garbage", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>") }, upload.ErrFUSUnavailable},
		{"oversized", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"url":"https://s.example/`+strings.Repeat("a", upload.MaxFUSResponse)+`"}`)
		}, upload.ErrFUSUnavailable},
		{"relative URL", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"url":"/local"}`) }, upload.ErrFUSUnavailable},
		{"file URL", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"url":"file:///etc/passwd"}`) }, upload.ErrFUSUnavailable},
		{"bad header name", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"url":"https://s.example/","headers":{"a b":"c"}}`)
		}, upload.ErrFUSUnavailable},
		{"Host header", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"url":"https://s.example/","headers":{"host":"internal"}}`)
		}, upload.ErrFUSUnavailable},
		{"too slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, upload.ErrFUSUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newRawClient(t, tc.fus, upload.WithFUSTimeout(100*time.Millisecond))
			_, err := c.Target(context.Background(), "us01", params)
			assert.ErrorIs(t, err, tc.want)
			assert.NotContains(t, err.Error(), "aaaa", "errors never quote the storage URL")
		})
	}

	t.Run("transport error quoting the signed URL", func(t *testing.T) {
		// A FUS transport built on http.Client fails with a *url.Error,
		// whose text is the whole signed URL.
		signer, err := hmacsig.NewSigner(fusKey)
		require.NoError(t, err)
		failing := roundTripper(func(r *http.Request) (*http.Response, error) {
			return nil, &url.Error{Op: "Get", URL: r.URL.String(), Err: errors.New("connection refused")}
		})
		c, err := upload.NewClient(map[string]string{"us01": "http://fus.us01.internal/"}, signer, upload.WithFUSTransport(failing))
		require.NoError(t, err)
		_, err = c.Target(context.Background(), "us01", params)
		assert.ErrorIs(t, err, upload.ErrFUSUnavailable)
		assert.Contains(t, err.Error(), "connection refused")
		assert.NotContains(t, err.Error(), "sig=")
		assert.NotContains(t, err.Error(), "expires_at=")
	})
	t.Run("unknown zone", func(t *testing.T) {
		c := newRawClient(t, func(http.ResponseWriter, *http.Request) { t.Error("FUS called") })
		_, err := c.Target(context.Background(), "zz99", params)
		assert.ErrorIs(t, err, zone.ErrZoneUnroutable)
	})
	t.Run("caller gone is no FUS problem", func(t *testing.T) {
		c := newRawClient(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Target(ctx, "us01", params)
		assert.ErrorIs(t, err, context.Canceled)
		var p *edge.Problem
		assert.False(t, errors.As(err, &p))
	})
}

func TestNewClientConfigErrors(t *testing.T) {
	signer, err := hmacsig.NewSigner(fusKey)
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		services map[string]string
		signer   *hmacsig.Signer
		opts     []upload.Option
	}{
		"no signer":        {map[string]string{"us01": "https://f.example"}, nil, nil},
		"no services":      {nil, signer, nil},
		"bad zone":         {map[string]string{"US 01": "https://f.example"}, signer, nil},
		"not http":         {map[string]string{"us01": "ftp://f.example"}, signer, nil},
		"credentials":      {map[string]string{"us01": "https://u:p@f.example"}, signer, nil},
		"query":            {map[string]string{"us01": "https://f.example/?x=1"}, signer, nil},
		"zero FUS timeout": {map[string]string{"us01": "https://f.example"}, signer, []upload.Option{upload.WithFUSTimeout(0)}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := upload.NewClient(tc.services, tc.signer, tc.opts...)
			assert.Error(t, err)
		})
	}
}

// roundTripper adapts a function to http.RoundTripper.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
