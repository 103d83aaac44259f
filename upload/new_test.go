package upload_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/upload/uploadtest"
	"github.com/cellgate/cellgate/zone"
)

// countingDirectory knows company 42 (zone us01) and 77 (zone eu01, which
// has no FUS here), and counts lookups.
type countingDirectory struct{ lookups atomic.Int64 }

func (d *countingDirectory) Lookup(_ context.Context, company string) (zone.Zone, error) {
	d.lookups.Add(1)
	switch company {
	case "42":
		return us01, nil
	case "77":
		return zone.Zone{Name: "eu01", WebBaseURL: "https://eu01.example.com"}, nil
	}
	return zone.Zone{}, zone.ErrUnknownCompany
}

// allowPreflight is a minimal CORS middleware standing in for rs/cors.
func allowPreflight(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// The whole chain of New: verification first (an unsigned request costs no
// lookup), preflights and health without a signature, the seed's span
// attributes, and no secret in logs, spans or problems.
func TestNewChain(t *testing.T) {
	okStore := newRecorder(t, http.StatusOK, http.Header{"Etag": {`"abc"`}}, "")
	denyStore := newRecorder(t, http.StatusForbidden, nil, `<Error><Code>AccessDenied</Code></Error>`)
	f := newFUS(t, func(_ context.Context, p upload.Params) (uploadtest.Answer, error) {
		id := p.UploadID
		store := okStore
		if id == "denied" {
			store = denyStore
		}
		return uploadtest.Answer{URL: store.URL + "/bucket/" + id + "?X-Amz-Credential=AKIA&X-Amz-Signature=s3cr3t"}, nil
	}, upload.WithStorageHosts(okStore.host(), denyStore.host()))

	dir := &countingDirectory{}
	verifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: uploadKey})
	require.NoError(t, err)
	signer, err := hmacsig.NewSigner(uploadKey)
	require.NoError(t, err)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	h, err := upload.New(verifier, dir, f.Client,
		upload.WithCORS(allowPreflight),
		upload.WithTracerProvider(tp),
		upload.WithLogger(logger),
	)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	sign := func(path string) string {
		u, err := signer.SignURL(http.MethodPut, srv.URL+path, time.Minute)
		require.NoError(t, err)
		return u
	}

	t.Run("unsigned costs no lookup", func(t *testing.T) {
		resp := put(t, srv.Client(), srv.URL+uploadPath("u", 0), []byte("x"), nil)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.Equal(t, "signature_missing", readProblem(t, resp).Code)
		assert.Zero(t, dir.lookups.Load())
		assert.Zero(t, f.Calls.Load())
	})
	t.Run("preflight needs no signature", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+uploadPath("u", 0), nil)
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", "PUT")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNoContent, resp.StatusCode)
		assert.Equal(t, "https://app.example.com", resp.Header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("health needs no signature", func(t *testing.T) {
		resp, err := srv.Client().Get(srv.URL + upload.PatternHealth[len("GET "):])
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	t.Run("no route is a problem too", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{http.MethodGet, "/nothing/here"},
			{http.MethodGet, uploadPath("u", 0)}, // the mux alone would answer 405 in plain text
		} {
			req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			assert.Equal(t, http.StatusNotFound, resp.StatusCode, "%s %s", c.method, c.path)
			assert.Equal(t, "not_found", readProblem(t, resp).Code, "%s %s", c.method, c.path)
			resp.Body.Close()
		}
		assert.Zero(t, dir.lookups.Load())
	})
	t.Run("signed upload", func(t *testing.T) {
		resp := put(t, srv.Client(), sign(uploadPath("file_9", 0)), []byte("hello"), nil)
		assert.Equal(t, answer{ETag: `"abc"`, Size: 5}, readAnswer(t, resp))
		assert.NotEmpty(t, resp.Header.Get(edge.RequestIDHeader))
	})
	// ServeMux would redirect a path it cleans (307, the signed query in
	// Location); the signed-URL syntax refuses such a path instead.
	t.Run("unclean path is malformed, never redirected", func(t *testing.T) {
		noFollow := *srv.Client()
		noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		signed := sign(uploadPath("u", 0))
		lookups := dir.lookups.Load()
		for _, c := range []struct{ from, to string }{
			{"/uploads/", "//uploads/"},
			{"/uploads/", "/./uploads/"},
			{"/uploads/", "/x/../uploads/"},
			{srv.URL + "/", srv.URL + "//"},
		} {
			resp := put(t, &noFollow, strings.Replace(signed, c.from, c.to, 1), []byte("x"), nil)
			assert.Empty(t, resp.Header.Get("Location"), c.to)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, c.to)
			assert.Equal(t, "signature_malformed", readProblem(t, resp).Code, c.to)
		}
		assert.Equal(t, lookups, dir.lookups.Load())
	})
	t.Run("unknown company", func(t *testing.T) {
		calls := f.Calls.Load()
		resp := put(t, srv.Client(), sign("/rest/v2.1/companies/43/projects/7/uploads/u"), []byte("x"), nil)
		assert.Equal(t, "company_unknown", readProblem(t, resp).Code)
		assert.Equal(t, calls, f.Calls.Load())
	})
	t.Run("zone without a FUS here", func(t *testing.T) {
		resp := put(t, srv.Client(), sign("/rest/v2.1/companies/77/projects/7/uploads/u"), []byte("x"), nil)
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
		assert.Equal(t, "zone_unroutable", readProblem(t, resp).Code)
	})
	t.Run("storage refusal", func(t *testing.T) {
		resp := put(t, srv.Client(), sign(uploadPath("denied", 2)), []byte("x"), nil)
		p := readProblem(t, resp)
		assert.Equal(t, "storage_rejected", p.Code)
		assert.NotContains(t, p.Detail, "s3cr3t")
	})

	// The seed's attributes on the upload's server span.
	var attrs map[attribute.Key]attribute.Value
	for _, s := range spans.Ended() {
		m := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes() {
			m[kv.Key] = kv.Value
		}
		if m[upload.AttrUploadID].AsString() == "file_9" {
			attrs = m
		}
		for _, kv := range s.Attributes() {
			assert.NotContains(t, kv.Value.String(), "s3cr3t", "span %s attribute %s", s.Name(), kv.Key)
			assert.NotContains(t, kv.Value.String(), "sig=", "span %s attribute %s", s.Name(), kv.Key)
		}
	}
	require.NotNil(t, attrs, "no span with upload.upload_id=file_9")
	// The PUT to storage is a client span of its own, its URL cut before
	// the presigned query.
	var storageSpans int
	for _, s := range spans.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == "url.full" && strings.HasPrefix(kv.Value.AsString(), okStore.URL+"/bucket/file_9") {
				storageSpans++
				assert.Equal(t, okStore.URL+"/bucket/file_9", kv.Value.AsString())
			}
		}
	}
	assert.Equal(t, 1, storageSpans, "one client span for the PUT to storage")
	assert.Equal(t, "42", attrs[upload.AttrCompanyID].AsString())
	assert.True(t, attrs[upload.AttrIsStandard].AsBool())
	assert.Equal(t, int64(5), attrs[upload.AttrBytesStreamed].AsInt64())
	for _, k := range []attribute.Key{upload.AttrFetchURLMillis, upload.AttrStreamMillis} {
		v, ok := attrs[k]
		assert.True(t, ok && v.Type() == attribute.INT64 && v.AsInt64() >= 0, "%s = %v", k, v)
	}

	out := logs.String()
	assert.Contains(t, out, "storage_code=AccessDenied")
	for _, secret := range []string{"s3cr3t", "X-Amz-Credential", "AKIA", "sig=", "expires_at="} {
		assert.NotContains(t, out, secret)
	}
	assert.True(t, strings.Contains(out, "upload_id=file_9"), "the upload id joins the access log line")
}

func TestNewConfigErrors(t *testing.T) {
	f := newFUS(t, fixed("https://s.example/", nil), upload.WithStorageHosts("s.example"))
	verifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: uploadKey})
	require.NoError(t, err)
	_, err = upload.New(nil, &countingDirectory{}, f.Client)
	assert.Error(t, err)
	_, err = upload.New(verifier, nil, f.Client)
	assert.Error(t, err)
	_, err = upload.New(verifier, &countingDirectory{}, nil)
	assert.Error(t, err)
}
