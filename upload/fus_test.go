package upload_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
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

// testStorage are the storage hosts the FUS client tests allow.
var testStorage = []string{"*.s3.example.com", "s.example"}

// newRawClient is a Client of a FUS handler that does not verify, so tests
// can see exactly what arrives and answer anything.
func newRawClient(t *testing.T, fus http.HandlerFunc, opts ...upload.ClientOption) *upload.Client {
	t.Helper()
	signer, err := hmacsig.NewSigner(fusKey)
	require.NoError(t, err)
	opts = append([]upload.ClientOption{upload.WithFUSTransport(edge.Binding(fus)), upload.WithStorageHosts(testStorage...)}, opts...)
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
	ctx := edge.ContextWithRequestID(context.Background(), "req-1")
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
		c, err := upload.NewClient(map[string]string{"us01": "http://fus.us01.internal/"}, signer,
			upload.WithFUSTransport(failing), upload.WithStorageHosts(testStorage...))
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
		opts     []upload.ClientOption
	}{
		"no signer":            {map[string]string{"us01": "https://f.example"}, nil, nil},
		"no services":          {nil, signer, nil},
		"bad zone":             {map[string]string{"US 01": "https://f.example"}, signer, nil},
		"not http":             {map[string]string{"us01": "ftp://f.example"}, signer, nil},
		"credentials":          {map[string]string{"us01": "https://u:p@f.example"}, signer, nil},
		"query":                {map[string]string{"us01": "https://f.example/?x=1"}, signer, nil},
		"negative FUS timeout": {map[string]string{"us01": "https://f.example"}, signer, []upload.ClientOption{upload.WithFUSTimeout(-time.Second)}},
		"no storage hosts":     {map[string]string{"us01": "https://f.example"}, signer, nil},
	} {
		t.Run(name, func(t *testing.T) {
			opts := tc.opts
			if name != "no storage hosts" {
				opts = append(opts, upload.WithStorageHosts(testStorage...))
			}
			_, err := upload.NewClient(tc.services, tc.signer, opts...)
			assert.Error(t, err)
		})
	}
	t.Run("the error for no storage hosts names the option", func(t *testing.T) {
		_, err := upload.NewClient(map[string]string{"us01": "https://f.example"}, signer)
		assert.ErrorContains(t, err, "WithStorageHosts")
	})
	t.Run("storage host entries", func(t *testing.T) {
		for _, entry := range []string{
			"", "*", "*.com", "*.", "http://*.s3.amazonaws.com", "ftp://s.example", "https://s.example/path",
			"user@s.example", "s.example.", "s.example:0", "s.example:65536", "s.example:08", "s.example:",
			"::1", "[::1", "[s.example]:1", "[fe80::1%25eth0]", "s_3.example", "2130706433", "s.example?x",
		} {
			_, err := upload.NewClient(map[string]string{"us01": "https://f.example"}, signer, upload.WithStorageHosts(entry))
			assert.Error(t, err, "entry %q", entry)
		}
		for _, entry := range []string{
			"s.example", "S.Example:8443", "*.s3.amazonaws.com", "http://127.0.0.1:8086", "[::1]:9443", "https://169.254.169.254",
		} {
			_, err := upload.NewClient(map[string]string{"us01": "https://f.example"}, signer, upload.WithStorageHosts(entry))
			assert.NoError(t, err, "entry %q", entry)
		}
	})
	t.Run("storage headers", func(t *testing.T) {
		for _, entry := range []string{"Authorization", "cookie", "Proxy-Authorization", "proxy_*", "Host", "Content-Length",
			"Transfer-Encoding", "Connection", "Expect", "TE", "Upgrade", "", "*", "a b", "x-*-y"} {
			_, err := upload.NewClient(map[string]string{"us01": "https://f.example"}, signer,
				upload.WithStorageHosts(testStorage...), upload.WithStorageHeaders(entry))
			assert.Error(t, err, "entry %q", entry)
		}
		_, err := upload.NewClient(map[string]string{"us01": "https://f.example"}, signer,
			upload.WithStorageHosts(testStorage...), upload.WithStorageHeaders("X-Amz-Security-Token", "x-custom-*"))
		assert.NoError(t, err)
	})
}

// roundTripper adapts a function to http.RoundTripper.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Issue 12, hole 7: a FUS answer points only at storage the operator
// listed. IP literals match only an exact entry, wildcards never match
// them, and every other spelling of a host is refused.
func TestStorageHostAllowList(t *testing.T) {
	var answer string
	signer, err := hmacsig.NewSigner(fusKey)
	require.NoError(t, err)
	fus := edge.Binding(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"url":`+strconv.Quote(answer)+`}`)
	}))
	c, err := upload.NewClient(map[string]string{"us01": "http://fus.us01.internal"}, signer, upload.WithFUSTransport(fus),
		upload.WithStorageHosts("*.s3.amazonaws.com", "storage.googleapis.com", "minio.internal:9000",
			"http://127.0.0.1:8086", "[fd00::7]:9443"))
	require.NoError(t, err)

	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://bucket.s3.amazonaws.com/k?X-Amz-Signature=s", true},
		{"https://BUCKET.S3.AMAZONAWS.COM/k", true},
		{"https://my.bucket.s3.amazonaws.com/k", true},
		{"https://bucket.s3.amazonaws.com:443/k", true},
		{"https://storage.googleapis.com/b/o", true},
		{"https://minio.internal:9000/b/o", true},
		{"http://127.0.0.1:8086/objects/us01/1/7/u", true},
		{"https://[fd00::7]:9443/b/o", true},

		{"https://169.254.169.254/latest/meta-data/", false},
		{"http://169.254.169.254/latest/meta-data/", false},
		{"https://[::1]/", false},
		{"https://[::ffff:169.254.169.254]/", false},
		{"https://10.0.0.1:6443/api/v1/secrets", false},
		{"https://127.0.0.1:8086/objects", false}, // listed for http only
		{"http://127.0.0.1:8087/objects", false},  // another port
		{"https://[fd00::7]/b/o", false},          // port mismatch
		{"https://[fe80::1%25eth0]:9443/", false}, // zone
		{"https://evil.com/", false},
		{"https://bucket.s3.amazonaws.com.evil.com/k", false},
		{"https://evils3.amazonaws.com/k", false},
		{"https://s3.amazonaws.com/k", false},          // the suffix itself
		{"https://bucket.s3.amazonaws.com./k", false},  // trailing dot
		{"https://storage.googleapis.com./b/o", false}, // trailing dot
		{"https://bucket.s3.amazonaws.com:8443/k", false},
		{"https://bucket.s3.amazonaws.com:/k", false},
		{"https://storage.googleapis.com:0443/b", false},
		{"http://bucket.s3.amazonaws.com/k", false}, // plain http to a wildcard
		{"http://minio.internal:9000/b/o", false},   // listed for https
		{"https://user:pw@storage.googleapis.com/b", false},
		{"https://user@bucket.s3.amazonaws.com/k", false},
		{"https://2130706433.s3/", false},
		{"https://bucket_1.s3.amazonaws.com/k", false},
		{"https://%62ucket.s3.amazonaws.com/k", false},
		{"ftp://storage.googleapis.com/b", false},
		{"//storage.googleapis.com/b", false},
		{"storage.googleapis.com/b", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			answer = tc.url
			_, err := c.Target(context.Background(), "us01", params)
			if tc.want {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, upload.ErrFUSUnavailable)
			if err != nil {
				assert.NotContains(t, err.Error(), "/latest", "errors name the host at most, never the URL")
				assert.NotContains(t, err.Error(), "pw")
			}
		})
	}
}

// FUS may name only the headers storage presigns need; credentials and
// framing headers are refused in any spelling, even when configured.
func TestStorageHeaderAllowList(t *testing.T) {
	var headers map[string]string
	c := newRawClient(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(map[string]any{"url": "https://s.example/b/o", "headers": headers})
		w.Write(b)
	}, upload.WithStorageHeaders("x-custom-*", "X-Amz-Security-Token"))
	for _, tc := range []struct {
		name, value string
		want        bool
	}{
		{"Content-Type", "application/pdf", true},
		{"content-md5", "abc==", true},
		{"Content-Disposition", "attachment", true},
		{"Cache-Control", "no-cache", true},
		{"x-amz-meta-origin", "cellgate", true},
		{"X-Ms-Blob-Type", "BlockBlob", true},
		{"x-goog-meta-origin", "cellgate", true},
		{"x-custom-sum", "1", true},                // WithStorageHeaders prefix
		{"X-Amz-Security-Token", "tok", true},      // named with WithStorageHeaders
		{"x-amz-copy-source", "/other/obj", false}, // excluded by default
		{"x-ms-copy-source", "https://x/y", false},
		{"Authorization", "Bearer fus-secret", false},
		{"authorization", "AWS4-HMAC-SHA256 …", false},
		{"Cookie", "session=s", false},
		{"Proxy-Authorization", "Basic x", false},
		{"Proxy_Authorization", "Basic x", false},
		{"Host", "internal", false},
		{"Connection", "close", false},
		{"Transfer-Encoding", "chunked", false},
		{"Content-Length", "1", false},
		{"Expect", "100-continue", false},
		{"Upgrade", "h2c", false},
		{"TE", "trailers", false},
		{"Content_Type", "text/plain", false},  // not Content-Type as written
		{"X-Forwarded-For", "10.0.0.1", false}, // simply not allowed
		{"Cellgate-Company-Id", "1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			headers = map[string]string{tc.name: tc.value}
			target, err := c.Target(context.Background(), "us01", params)
			if !tc.want {
				assert.ErrorIs(t, err, upload.ErrFUSUnavailable)
				if err != nil {
					assert.NotContains(t, err.Error(), tc.value, "header values are never quoted")
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.value, target.Header.Get(tc.name))
		})
	}
	t.Run("two spellings of one header", func(t *testing.T) {
		headers = map[string]string{"content-type": "a/b", "Content-Type": "c/d"}
		_, err := c.Target(context.Background(), "us01", params)
		assert.ErrorIs(t, err, upload.ErrFUSUnavailable)
	})
}
