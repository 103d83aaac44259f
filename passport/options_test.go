package passport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/zone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// optionWorld is what the constructors of the package need besides options.
type optionWorld struct {
	key    SigningKey
	issuer *Issuer
	store  *MemoryStore
	signed *hmacsig.Verifier
	dir    *zone.StaticDirectory
}

func newOptionWorld(t *testing.T) *optionWorld {
	t.Helper()
	w := &optionWorld{}
	var err error
	w.key, err = GenerateKey(EdDSA)
	require.NoError(t, err)
	w.issuer, err = NewIssuer(testIss, w.key)
	require.NoError(t, err)
	w.store, err = NewMemoryStore()
	require.NoError(t, err)
	w.signed, err = hmacsig.NewVerifier(hmacsig.Keys{Current: storageKey})
	require.NoError(t, err)
	w.dir = testDirectory(t)
	return w
}

// allOptions returns one valid instance of every option of the package.
func (w *optionWorld) allOptions() []Option {
	next, _ := GenerateKey(EdDSA)
	return []Option{
		WithClock(time.Now), WithLifetime(time.Minute), WithNextKey(next), WithPreviousKeys(next.Public()),
		WithJWKSMaxAge(time.Minute), WithTrust(edge.TrustBinding), WithSignedCalls(w.signed), WithCookie("sid"),
		WithHeader("Cellgate-Passport"), WithCompanyHeader("X-Tenant"), WithPublic(func(*http.Request) bool { return false }),
		WithCompanyless(func(*http.Request) bool { return false }), WithCacheTTL(time.Second), WithKeepSessionCookie(),
		WithSessionLifetime(time.Hour), WithInsecureCookie(), WithJWKS("https://auth.test/jwks.json"),
		WithStaticKeys(w.key.Public()), WithIssuer(w.issuer), WithLoopbackHTTP(), WithLeeway(time.Second),
		WithTransport(http.DefaultTransport), WithTimeout(time.Second), WithMaxEntries(10), WithRetention(time.Minute),
		WithPrefix("/internal"), WithObserver(nil), WithMaxLifetime(time.Minute), WithJWKSMaxStale(time.Hour), WithFailureBudget(10), WithForwardedBy(nil),
		WithVariants(func(Subject) map[string]string { return nil }),
	}
}

// constructors builds each constructor of the package with opts.
func (w *optionWorld) constructors() map[string]struct {
	reads []string
	build func(opts ...Option) error
} {
	type ctor = struct {
		reads []string
		build func(opts ...Option) error
	}
	return map[string]ctor{
		"NewIssuer": {issuerOptions, func(opts ...Option) error { _, err := NewIssuer(testIss, w.key, opts...); return err }},
		"NewAuthService": {authOptions, func(opts ...Option) error {
			_, err := NewAuthService(w.store, w.issuer, w.dir, opts...)
			return err
		}},
		"NewGateway": {gatewayOptions, func(opts ...Option) error {
			_, err := NewGateway(testZone, w.dir, authURL, nil, opts...)
			return err
		}},
		"NewVerifier": {verifierOptions, func(opts ...Option) error {
			// A verifier needs exactly one key source: the option under
			// test, or WithStaticKeys when it is none.
			source := slices.ContainsFunc(opts, func(o Option) bool {
				return o.Name() == "WithJWKS" || o.Name() == "WithIssuer" || o.Name() == "WithStaticKeys"
			})
			if !source {
				opts = append(opts, WithStaticKeys(w.key.Public()))
			}
			_, err := NewVerifier(testIss, testZone, opts...)
			return err
		}},
		"NewMemoryStore":    {memStoreOptions, func(opts ...Option) error { _, err := NewMemoryStore(opts...); return err }},
		"NewStorageService": {storageOptions, func(opts ...Option) error { _, err := NewStorageService(w.store, w.signed, opts...); return err }},
		"NewStoreClient": {clientOptions, func(opts ...Option) error {
			_, err := NewStoreClient("https://sessions.internal", http.DefaultTransport, opts...)
			return err
		}},
		"SignIn": {signInOptions, func(opts ...Option) error {
			_, err := SignIn(context.Background(), httptest.NewRecorder(), w.store, Session{User: "u"}, opts...)
			return err
		}},
	}
}

// Every constructor takes each option it reads and refuses, naming option
// and constructor, each one it does not: NewIssuer(…, WithCacheTTL(…)) is
// "passport: NewIssuer does not take option WithCacheTTL".
func TestConstructorsRefuseOptionsTheyDoNotRead(t *testing.T) {
	w := newOptionWorld(t)
	all := w.allOptions()
	names := map[string]bool{}
	for _, o := range all {
		names[o.Name()] = true
	}
	for name, ctor := range w.constructors() {
		for _, o := range all {
			err := ctor.build(o)
			if slices.Contains(ctor.reads, o.Name()) {
				assert.NoError(t, err, "%s(%s)", name, o.Name())
				continue
			}
			if assert.Error(t, err, "%s(%s)", name, o.Name()) {
				assert.Equal(t, "passport: "+name+" does not take option "+o.Name(), err.Error())
			}
		}
		for _, r := range ctor.reads {
			assert.True(t, names[r], "%s lists unknown option %s", name, r)
		}
	}
}

func TestOptionsRefuseInvalidValues(t *testing.T) {
	w := newOptionWorld(t)
	ctors := w.constructors()
	for _, tc := range []struct {
		ctor string
		opt  Option
	}{
		{"NewIssuer", WithLifetime(0)},
		{"NewIssuer", WithLifetime(2 * time.Hour)},
		{"NewIssuer", WithJWKSMaxAge(-time.Second)},
		{"NewIssuer", WithNextKey(SigningKey{ID: "k"})},
		{"NewIssuer", WithPreviousKeys(PublicKey{ID: "bad kid!"})},
		{"NewGateway", WithCookie("")},
		{"NewGateway", WithCookie("a;b")},
		{"NewGateway", WithHeader("Bad Header")},
		{"NewGateway", WithCompanyHeader("a:b")},
		{"NewGateway", WithCacheTTL(-time.Second)},
		{"NewGateway", WithMaxEntries(0)},
		{"NewGateway", WithTimeout(0)},
		{"NewVerifier", WithJWKS("/jwks.json")},
		{"NewVerifier", WithJWKS("ftp://auth.test/jwks.json")},
		{"NewVerifier", WithStaticKeys()},
		{"NewVerifier", WithLeeway(-time.Second)},
		{"NewVerifier", WithLeeway(time.Hour)},
		{"NewVerifier", WithHeader("")},
		{"NewVerifier", WithMaxLifetime(-time.Second)},
		{"NewVerifier", WithMaxLifetime(2 * time.Hour)},
		{"NewVerifier", WithJWKSMaxStale(-time.Second)},
		{"NewVerifier", WithJWKSMaxStale(time.Second)},
		{"NewVerifier", WithJWKSMaxStale(48 * time.Hour)},
		{"NewMemoryStore", WithMaxEntries(-1)},
		{"NewMemoryStore", WithRetention(-time.Second)},
		{"NewStorageService", WithPrefix("internal")},
		{"NewStorageService", WithPrefix("/internal/")},
		{"NewStoreClient", WithTimeout(-time.Second)},
		{"SignIn", WithSessionLifetime(0)},
		{"SignIn", WithCookie("a b")},
	} {
		err := ctors[tc.ctor].build(tc.opt)
		if assert.Error(t, err, "%s(%s)", tc.ctor, tc.opt.Name()) {
			assert.True(t, strings.HasPrefix(err.Error(), "passport: "+tc.ctor+": "+tc.opt.Name()+": "), err.Error())
		}
	}
	// The zero Option is no option.
	err := ctors["NewIssuer"].build(Option{})
	assert.EqualError(t, err, "passport: NewIssuer: zero Option")
	// Plain http to a JWKS is for loopback only, and only when asked.
	for _, tc := range []struct {
		url  string
		opts []Option
		ok   bool
	}{
		{"http://auth.test/jwks.json", []Option{WithLoopbackHTTP()}, false},
		{"http://127.0.0.1:8080/jwks.json", nil, false},
		{"http://127.0.0.1:8080/jwks.json", []Option{WithLoopbackHTTP()}, true},
		{"http://localhost/jwks.json", []Option{WithLoopbackHTTP()}, true},
	} {
		err := ctors["NewVerifier"].build(append(tc.opts, WithJWKS(tc.url))...)
		assert.Equal(t, tc.ok, err == nil, "%s %v: %v", tc.url, tc.opts, err)
	}
}
