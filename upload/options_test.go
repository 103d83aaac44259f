package upload_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/zone"
)

// TestOptionsChecked: every constructor refuses every option it does not
// read, naming both, and takes every one it reads.
func TestOptionsChecked(t *testing.T) {
	f := newFUS(t, fixed("https://s.example/", nil), upload.WithStorageHosts("s.example"))
	verifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: uploadKey})
	require.NoError(t, err)
	signer, err := hmacsig.NewSigner(fusKey)
	require.NoError(t, err)
	pass := func(next http.Handler) http.Handler { return next }
	all := []upload.Option{
		upload.WithMaxSize(1), upload.WithIdleTimeout(time.Second), upload.WithStorageTransport(nil),
		upload.WithStorageHosts("s.example"), upload.WithStorageAddresses("10.0.0.0/8"), upload.WithStorageHeaders("x-custom"), upload.WithFUSTransport(nil),
		upload.WithFUSTimeout(time.Second), upload.WithTracerProvider(nil), upload.WithCompanyID(zone.ValidCompanyID),
		upload.WithCORS(pass), upload.WithFlags(pass), upload.WithDetectCompany(), upload.WithResolve(),
		upload.WithLogger(nil), upload.WithObserver(nil), upload.WithTrust(nil), upload.WithPatterns(upload.PatternUpload, upload.PatternPart),
	}
	handler := []string{"WithMaxSize", "WithIdleTimeout", "WithStorageTransport", "WithTracerProvider", "WithCompanyID", "WithObserver"}
	reads := map[string][]string{
		"NewClient":  {"WithStorageHosts", "WithStorageAddresses", "WithStorageHeaders", "WithFUSTransport", "WithFUSTimeout", "WithTracerProvider", "WithCompanyID"},
		"NewHandler": handler,
		"New": append(slices.Clone(handler), "WithCORS", "WithFlags", "WithDetectCompany", "WithResolve",
			"WithLogger", "WithTrust", "WithPatterns"),
	}
	construct := map[string]func(upload.Option) error{
		"NewClient": func(o upload.Option) error {
			_, err := upload.NewClient(map[string]string{"us01": "http://fus.us01.internal"}, signer,
				upload.WithStorageHosts("s.example"), o)
			return err
		},
		"NewHandler": func(o upload.Option) error { _, err := upload.NewHandler(f.Client, o); return err },
		"New": func(o upload.Option) error {
			_, err := upload.New(verifier, &countingDirectory{}, f.Client, o)
			return err
		},
	}
	for ctor, make := range construct {
		for _, o := range all {
			err := make(o)
			if slices.Contains(reads[ctor], o.Name()) {
				assert.NoError(t, err, "%s(%s)", ctor, o.Name())
				continue
			}
			if assert.Error(t, err, "%s(%s)", ctor, o.Name()) {
				assert.Contains(t, err.Error(), ctor)
				assert.Contains(t, err.Error(), o.Name())
			}
		}
		assert.Error(t, make(upload.Option{}), "%s: zero Option", ctor)
	}
}

// TestOptionsInvalid: an invalid value is an error naming the option and the
// constructor.
func TestOptionsInvalid(t *testing.T) {
	f := newFUS(t, fixed("https://s.example/", nil), upload.WithStorageHosts("s.example"))
	signer, err := hmacsig.NewSigner(fusKey)
	require.NoError(t, err)
	client := func(o upload.Option) error {
		_, err := upload.NewClient(map[string]string{"us01": "http://fus.us01.internal"}, signer,
			upload.WithStorageHosts("s.example"), o)
		return err
	}
	handler := func(o upload.Option) error { _, err := upload.NewHandler(f.Client, o); return err }
	verifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: uploadKey})
	require.NoError(t, err)
	newAll := func(o upload.Option) error {
		_, err := upload.New(verifier, &countingDirectory{}, f.Client, o)
		return err
	}
	const base = "PUT /v1/orgs/{companyId}/projects/{projectId}/files/{uploadId}"
	for _, tt := range []struct {
		name, ctor string
		make       func(upload.Option) error
		opt        upload.Option
	}{
		{"negative size", "NewHandler", handler, upload.WithMaxSize(-1)},
		{"zero size", "NewHandler", handler, upload.WithMaxSize(0)},
		{"zero idle", "NewHandler", handler, upload.WithIdleTimeout(0)},
		{"nil company rule", "NewHandler", handler, upload.WithCompanyID(nil)},
		{"zero FUS timeout", "NewClient", client, upload.WithFUSTimeout(0)},
		{"storage host with path", "NewClient", client, upload.WithStorageHosts("s.example/bucket")},
		{"storage host ftp", "NewClient", client, upload.WithStorageHosts("ftp://s.example")},
		{"forbidden storage header", "NewClient", client, upload.WithStorageHeaders("Authorization")},
		{"bad storage header", "NewClient", client, upload.WithStorageHeaders("bad header")},
		{"pattern without method", "New", newAll, upload.WithPatterns(strings.TrimPrefix(base, "PUT "), base+"/parts/{partNumber}")},
		{"pattern with POST", "New", newAll, upload.WithPatterns("POST"+strings.TrimPrefix(base, "PUT"), base+"/parts/{partNumber}")},
		{"pattern without uploadId", "New", newAll, upload.WithPatterns("PUT /v1/orgs/{companyId}/projects/{projectId}", base+"/parts/{partNumber}")},
		{"part without partNumber", "New", newAll, upload.WithPatterns(base, base+"/parts")},
		{"upload with partNumber", "New", newAll, upload.WithPatterns(base+"/{partNumber}", base+"/parts/{partNumber}")},
		{"wildcard twice", "New", newAll, upload.WithPatterns(base+"/{uploadId}", base+"/parts/{partNumber}")},
		{"invalid pattern", "New", newAll, upload.WithPatterns(base+"/{bad", base+"/parts/{partNumber}")},
		{"same patterns", "New", newAll, upload.WithPatterns(base, base)},
	} {
		err := tt.make(tt.opt)
		if assert.Error(t, err, tt.name) {
			assert.Contains(t, err.Error(), tt.ctor, tt.name)
			assert.Contains(t, err.Error(), tt.opt.Name(), tt.name)
		}
	}
}

// TestPatterns: New serves uploads on the configured patterns only.
func TestPatterns(t *testing.T) {
	store := newRecorder(t, http.StatusOK, http.Header{"Etag": {`"e"`}}, "")
	f := newFUS(t, fixed(store.URL+"/bucket/obj?X-Amz-Signature=s", nil), upload.WithStorageHosts(store.host()))
	verifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: uploadKey})
	require.NoError(t, err)
	signer, err := hmacsig.NewSigner(uploadKey)
	require.NoError(t, err)
	h, err := upload.New(verifier, &countingDirectory{}, f.Client, upload.WithPatterns(
		"PUT /v1/orgs/{companyId}/projects/{projectId}/files/{uploadId}",
		"PUT /v1/orgs/{companyId}/projects/{projectId}/files/{uploadId}/{partNumber}"))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/v1/orgs/42/projects/7/files/u", http.StatusOK},
		{"/v1/orgs/42/projects/7/files/u/3", http.StatusOK},
		{"/v1/orgs/42/projects/7/files/u/0", http.StatusBadRequest},
		{uploadPath("u", 0), http.StatusNotFound},
	} {
		u, err := signer.SignURL(http.MethodPut, srv.URL+tt.path, time.Minute)
		require.NoError(t, err)
		resp := put(t, srv.Client(), u, []byte("hello"), nil)
		assert.Equal(t, tt.want, resp.StatusCode, tt.path)
		if tt.want == http.StatusNotFound {
			assert.Equal(t, "not_found", readProblem(t, resp).Code)
		}
		resp.Body.Close()
	}
}

// TestCompanyIDRule: the company id rule is pluggable in ParseParams and the
// client, and never admits an empty or dot segment.
func TestCompanyIDRule(t *testing.T) {
	slug := func(id string) bool { return strings.HasPrefix(id, "c-") || id == "." || id == ".." || id == "" }
	req := func(company string) *http.Request {
		r := httptest.NewRequest(http.MethodPut, "/", strings.NewReader("x"))
		r.SetPathValue("companyId", company)
		r.SetPathValue("projectId", "7")
		r.SetPathValue("uploadId", "u")
		return r
	}
	for _, tt := range []struct {
		company string
		rule    func(string) bool
		ok      bool
	}{
		{"42", nil, true},
		{"c-acme", nil, false},
		{"c-acme", slug, true},
		{"42", slug, false},
		{".", slug, false},
		{"..", slug, false},
		{"", slug, false},
	} {
		_, err := upload.ParseParams(req(tt.company), 10, tt.rule)
		if tt.ok {
			assert.NoError(t, err, tt.company)
		} else {
			assert.ErrorIs(t, err, zone.ErrCompanyInvalid, tt.company)
		}
	}

	f := newFUS(t, fixed("https://s.example/", nil), upload.WithStorageHosts("s.example"), upload.WithCompanyID(slug))
	_, err := f.Client.Target(context.Background(), "us01", upload.Params{CompanyID: "42", ProjectID: "7", UploadID: "u"})
	assert.True(t, errors.Is(err, zone.ErrCompanyInvalid), "%v", err)
	assert.Zero(t, f.Calls.Load())
}
