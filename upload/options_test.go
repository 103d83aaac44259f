package upload_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
	"github.com/cellgate/cellgate/internal/testrig/uploadrig"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/zone"
)

// optionWorld builds each constructor of the package with options.
type optionWorld struct {
	fus      *uploadrig.FUS
	verifier *hmacsig.Verifier
	signer   *hmacsig.Signer
}

func newOptionWorld(t *testing.T) *optionWorld {
	t.Helper()
	w := &optionWorld{fus: newFUS(t, fixed("https://s.example/", nil), upload.WithStorageHosts("s.example"))}
	var err error
	w.verifier, err = hmacsig.NewVerifier(hmacsig.Keys{Current: uploadKey})
	require.NoError(t, err)
	w.signer, err = hmacsig.NewSigner(fusKey)
	require.NoError(t, err)
	return w
}

func (w *optionWorld) client(opts ...upload.ClientOption) error {
	_, err := upload.NewClient(map[string]string{"us01": "http://fus.us01.internal"}, w.signer,
		append([]upload.ClientOption{upload.WithStorageHosts("s.example")}, opts...)...)
	return err
}

func (w *optionWorld) handler(opts ...upload.HandlerOption) error {
	_, err := upload.NewHandler(w.fus.Client, opts...)
	return err
}

func (w *optionWorld) service(opts ...upload.ServiceOption) error {
	_, err := upload.New(w.verifier, &countingDirectory{}, w.fus.Client, opts...)
	return err
}

// TestOptionsTaken: every constructor takes each of its options with a
// valid value, and zero, "" or nil for the default; every HandlerOption is
// a ServiceOption.
func TestOptionsTaken(t *testing.T) {
	w := newOptionWorld(t)
	pass := func(next http.Handler) http.Handler { return next }
	assert.NoError(t, w.client(upload.WithStorageHosts("s2.example"), upload.WithStorageAddresses("10.0.0.0/8"),
		upload.WithStorageHeaders("x-custom"), upload.WithFUSTransport(nil), upload.WithFUSTimeout(time.Second),
		upload.WithFUSTimeout(0), upload.WithTracerProvider(nil), upload.WithCompanyIDRule(zone.ValidCompanyID),
		upload.WithCompanyIDRule(nil)))
	handlerOpts := []upload.HandlerOption{upload.WithMaxSize(1), upload.WithMaxSize(0), upload.WithIdleTimeout(time.Second),
		upload.WithIdleTimeout(0), upload.WithStorageTransport(nil), upload.WithTracerProvider(nil),
		upload.WithCompanyIDRule(nil), upload.WithObserver(nil), upload.WithMinRate(0, 0), upload.WithoutMinRate(),
		upload.WithMaxDuration(0), upload.WithMaxUploads(0, 0), upload.WithClock(nil)}
	assert.NoError(t, w.handler(handlerOpts...))
	serviceOpts := []upload.ServiceOption{upload.WithCORS(pass), upload.WithFlagsMiddleware(pass), upload.WithDetectCompany(),
		upload.WithResolve(), upload.WithLogger(nil), upload.WithRequestIDTrust(nil),
		upload.WithPatterns(upload.PatternUpload, upload.PatternPart), upload.WithPatterns("", "")}
	for _, o := range handlerOpts {
		serviceOpts = append(serviceOpts, o)
	}
	assert.NoError(t, w.service(serviceOpts...))
}

// TestNilAndZeroOptionsAreErrors: a nil option, or the zero value of an
// exported option type, is an error from the constructor, never a panic.
func TestNilAndZeroOptionsAreErrors(t *testing.T) {
	w := newOptionWorld(t)
	for name, err := range map[string]error{
		"NewClient":  w.client(nil),
		"NewHandler": w.handler(upload.TracerProviderOption{}),
		"New":        w.service(upload.CompanyIDRuleOption{}),
	} {
		assert.EqualError(t, err, "upload: "+name+": zero Option")
	}
	assert.EqualError(t, w.service(nil), "upload: New: zero Option")
}

// TestOptionsInvalid: an invalid value is an error naming the option and the
// constructor.
func TestOptionsInvalid(t *testing.T) {
	w := newOptionWorld(t)
	const base = "PUT /v1/orgs/{companyId}/projects/{projectId}/files/{uploadId}"
	for _, tt := range []struct {
		name, ctor, option string
		err                error
	}{
		{"negative size", "NewHandler", "WithMaxSize", w.handler(upload.WithMaxSize(-1))},
		{"negative size in New", "New", "WithMaxSize", w.service(upload.WithMaxSize(-1))},
		{"negative idle", "NewHandler", "WithIdleTimeout", w.handler(upload.WithIdleTimeout(-time.Second))},
		{"negative rate", "NewHandler", "WithMinRate", w.handler(upload.WithMinRate(-1, 0))},
		{"negative duration", "NewHandler", "WithMaxDuration", w.handler(upload.WithMaxDuration(-time.Second))},
		{"per company above total", "NewHandler", "WithMaxUploads", w.handler(upload.WithMaxUploads(10, 20))},
		{"negative FUS timeout", "NewClient", "WithFUSTimeout", w.client(upload.WithFUSTimeout(-time.Second))},
		{"storage host with path", "NewClient", "WithStorageHosts", w.client(upload.WithStorageHosts("s.example/bucket"))},
		{"storage host ftp", "NewClient", "WithStorageHosts", w.client(upload.WithStorageHosts("ftp://s.example"))},
		{"bad storage address", "NewClient", "WithStorageAddresses", w.client(upload.WithStorageAddresses("10.0.0.0/99"))},
		{"forbidden storage header", "NewClient", "WithStorageHeaders", w.client(upload.WithStorageHeaders("Authorization"))},
		{"bad storage header", "NewClient", "WithStorageHeaders", w.client(upload.WithStorageHeaders("bad header"))},
		{"pattern without method", "New", "WithPatterns", w.service(upload.WithPatterns(strings.TrimPrefix(base, "PUT "), base+"/parts/{partNumber}"))},
		{"pattern with POST", "New", "WithPatterns", w.service(upload.WithPatterns("POST"+strings.TrimPrefix(base, "PUT"), base+"/parts/{partNumber}"))},
		{"pattern without uploadId", "New", "WithPatterns", w.service(upload.WithPatterns("PUT /v1/orgs/{companyId}/projects/{projectId}", base+"/parts/{partNumber}"))},
		{"part without partNumber", "New", "WithPatterns", w.service(upload.WithPatterns(base, base+"/parts"))},
		{"upload with partNumber", "New", "WithPatterns", w.service(upload.WithPatterns(base+"/{partNumber}", base+"/parts/{partNumber}"))},
		{"wildcard twice", "New", "WithPatterns", w.service(upload.WithPatterns(base+"/{uploadId}", base+"/parts/{partNumber}"))},
		{"invalid pattern", "New", "WithPatterns", w.service(upload.WithPatterns(base+"/{bad", base+"/parts/{partNumber}"))},
		{"same patterns", "New", "WithPatterns", w.service(upload.WithPatterns(base, base))},
		{"swapped patterns", "New", "WithPatterns", w.service(upload.WithPatterns(upload.PatternPart, upload.PatternUpload))},
	} {
		if assert.Error(t, tt.err, tt.name) {
			assert.Contains(t, tt.err.Error(), "upload: "+tt.ctor+": "+tt.option+": ", tt.name)
		}
	}
}

// TestMisplacedOptionDoesNotCompile: an option a constructor does not read
// is a compile error in the user's module.
func TestMisplacedOptionDoesNotCompile(t *testing.T) {
	program := func(use string) string {
		return `package main

import (
	"net/http"

	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
)

func main() {
	var signer *hmacsig.Signer
	var mw func(http.Handler) http.Handler
	_ = mw
	_, _ = upload.NewClient(map[string]string{"us01": "https://fus"}, signer, ` + use + `)
}
`
	}
	compilecheck.Fails(t, program(`upload.WithStorageHosts("s.example")`), program(`upload.WithCORS(mw)`),
		regexp.MustCompile(`upload.ServiceOption does not implement upload.ClientOption`))
	// A service option is no handler option either.
	out, built := compilecheck.Build(t, strings.Replace(program(`upload.WithStorageHosts("s.example")`),
		"_ = mw", "_, _ = upload.NewHandler(nil, upload.WithLogger(nil))", 1))
	assert.False(t, built, "WithLogger given to NewHandler compiled")
	assert.Regexp(t, `upload.ServiceOption does not implement upload.HandlerOption`, out)
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

	f := newFUS(t, fixed("https://s.example/", nil), upload.WithStorageHosts("s.example"), upload.WithCompanyIDRule(slug))
	_, err := f.Client.Target(context.Background(), "us01", upload.Params{CompanyID: "42", ProjectID: "7", UploadID: "u"})
	assert.True(t, errors.Is(err, zone.ErrCompanyInvalid), "%v", err)
	assert.Zero(t, f.Calls.Load())
}
