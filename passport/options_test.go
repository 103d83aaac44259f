package passport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

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

func (w *optionWorld) issuerWith(opts ...IssuerOption) error {
	_, err := NewIssuer(testIss, w.key, opts...)
	return err
}

func (w *optionWorld) gatewayWith(opts ...GatewayOption) error {
	_, err := NewGateway(testZone, w.dir, Endpoint{URL: authURL}, opts...)
	return err
}

// verifierWith adds WithStaticKeys unless opts bring a key source.
func (w *optionWorld) verifierWith(source bool, opts ...VerifierOption) error {
	if !source {
		opts = append(opts, WithStaticKeys(w.key.Public()))
	}
	_, err := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, opts...)
	return err
}

func (w *optionWorld) memoryStoreWith(opts ...MemoryStoreOption) error {
	_, err := NewMemoryStore(opts...)
	return err
}

func (w *optionWorld) storageWith(opts ...StorageServiceOption) error {
	_, err := NewStorageService(w.store, w.signed, opts...)
	return err
}

func (w *optionWorld) storeClientWith(opts ...StoreClientOption) error {
	_, err := NewStoreClient(Endpoint{URL: "https://sessions.internal", Transport: http.DefaultTransport}, opts...)
	return err
}

func (w *optionWorld) signInWith(opts ...SignInOption) error {
	_, err := SignIn(context.Background(), httptest.NewRecorder(), w.store, Session{User: "u"}, opts...)
	return err
}

// Every constructor takes each of its options with a valid value.
func TestConstructorsTakeTheirOptions(t *testing.T) {
	w := newOptionWorld(t)
	next, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	assert.NoError(t, w.issuerWith(WithClock(time.Now), WithLifetime(time.Minute), WithNextKey(next),
		WithPreviousKeys(next.Public()), WithJWKSMaxAge(time.Minute)))
	_, err = NewAuthService(w.store, w.issuer, w.dir, WithTrust(nil), WithSignedCalls(w.signed))
	assert.NoError(t, err)
	assert.NoError(t, w.gatewayWith(WithClock(time.Now), WithCookie("sid"), WithPassportHeader("Cellgate-Passport"),
		WithCompanyHeader("X-Tenant"), WithoutCompanyHeader(), WithPublic(nil), WithCompanyless(nil),
		WithCacheTTL(time.Second), WithoutCache(), WithCacheSize(10), WithKeepSessionCookie(), WithTimeout(time.Second),
		WithObserver(nil), WithFailureBudget(10), WithForwardedBy(nil)))
	assert.NoError(t, w.verifierWith(false, WithClock(time.Now), WithPassportHeader("Cellgate-Passport"), WithLoopbackHTTP(),
		WithLeeway(time.Second), WithMaxLifetime(time.Minute), WithJWKSMaxStale(time.Hour), WithJWKSTransport(nil),
		WithTimeout(time.Second), WithObserver(nil)))
	assert.NoError(t, w.verifierWith(true, WithJWKS("https://auth.test/jwks.json")))
	assert.NoError(t, w.verifierWith(true, WithInProcessIssuer(w.issuer)))
	assert.NoError(t, w.memoryStoreWith(WithClock(time.Now), WithMaxSessions(10), WithRetention(time.Minute), WithoutRetention()))
	assert.NoError(t, w.storageWith(WithPathPrefix("/internal")))
	assert.NoError(t, w.storeClientWith(WithTimeout(time.Second)))
	assert.NoError(t, w.signInWith(WithClock(time.Now), WithCookie("sid"), WithSessionLifetime(time.Hour), WithInsecureCookie()))
}

func TestOptionsRefuseInvalidValues(t *testing.T) {
	w := newOptionWorld(t)
	for _, tc := range []struct {
		ctor, option string
		err          error
	}{
		{"NewIssuer", "WithLifetime", w.issuerWith(WithLifetime(-time.Second))},
		{"NewIssuer", "WithLifetime", w.issuerWith(WithLifetime(2 * time.Hour))},
		{"NewIssuer", "WithJWKSMaxAge", w.issuerWith(WithJWKSMaxAge(-time.Second))},
		{"NewIssuer", "WithNextKey", w.issuerWith(WithNextKey(SigningKey{ID: "k"}))},
		{"NewIssuer", "WithNextKey", w.issuerWith(WithNextKey(SigningKey{}))},
		{"NewIssuer", "WithPreviousKeys", w.issuerWith(WithPreviousKeys(PublicKey{ID: "bad kid!"}))},
		{"NewGateway", "WithCookie", w.gatewayWith(WithCookie("a;b"))},
		{"NewGateway", "WithPassportHeader", w.gatewayWith(WithPassportHeader("Bad Header"))},
		{"NewGateway", "WithCompanyHeader", w.gatewayWith(WithCompanyHeader("a:b"))},
		{"NewGateway", "WithCacheTTL", w.gatewayWith(WithCacheTTL(-time.Second))},
		{"NewGateway", "WithCacheSize", w.gatewayWith(WithCacheSize(-1))},
		{"NewGateway", "WithTimeout", w.gatewayWith(WithTimeout(-time.Second))},
		{"NewGateway", "WithFailureBudget", w.gatewayWith(WithFailureBudget(-1))},
		{"NewVerifier", "WithJWKS", w.verifierWith(true, WithJWKS("/jwks.json"))},
		{"NewVerifier", "WithJWKS", w.verifierWith(true, WithJWKS("ftp://auth.test/jwks.json"))},
		{"NewVerifier", "WithStaticKeys", w.verifierWith(true, WithStaticKeys())},
		{"NewVerifier", "WithInProcessIssuer", w.verifierWith(true, WithInProcessIssuer(nil))},
		{"NewVerifier", "WithLeeway", w.verifierWith(false, WithLeeway(-time.Second))},
		{"NewVerifier", "WithLeeway", w.verifierWith(false, WithLeeway(time.Hour))},
		{"NewVerifier", "WithPassportHeader", w.verifierWith(false, WithPassportHeader("a b"))},
		{"NewVerifier", "WithMaxLifetime", w.verifierWith(false, WithMaxLifetime(-time.Second))},
		{"NewVerifier", "WithMaxLifetime", w.verifierWith(false, WithMaxLifetime(2*time.Hour))},
		{"NewVerifier", "WithJWKSMaxStale", w.verifierWith(false, WithJWKSMaxStale(-time.Second))},
		{"NewVerifier", "WithJWKSMaxStale", w.verifierWith(false, WithJWKSMaxStale(time.Second))},
		{"NewVerifier", "WithJWKSMaxStale", w.verifierWith(false, WithJWKSMaxStale(48*time.Hour))},
		{"NewMemoryStore", "WithMaxSessions", w.memoryStoreWith(WithMaxSessions(-1))},
		{"NewMemoryStore", "WithRetention", w.memoryStoreWith(WithRetention(-time.Second))},
		{"NewStorageService", "WithPathPrefix", w.storageWith(WithPathPrefix("internal"))},
		{"NewStorageService", "WithPathPrefix", w.storageWith(WithPathPrefix("/internal/"))},
		{"NewStoreClient", "WithTimeout", w.storeClientWith(WithTimeout(-time.Second))},
		{"SignIn", "WithSessionLifetime", w.signInWith(WithSessionLifetime(-time.Second))},
		{"SignIn", "WithCookie", w.signInWith(WithCookie("a b"))},
	} {
		if assert.Error(t, tc.err, "%s(%s)", tc.ctor, tc.option) {
			assert.True(t, strings.HasPrefix(tc.err.Error(), "passport: "+tc.ctor+": "+tc.option+": "), tc.err.Error())
		}
	}
	// Plain http to a JWKS is for loopback only, and only when asked.
	for _, tc := range []struct {
		url  string
		opts []VerifierOption
		ok   bool
	}{
		{"http://auth.test/jwks.json", []VerifierOption{WithLoopbackHTTP()}, false},
		{"http://127.0.0.1:8080/jwks.json", nil, false},
		{"http://127.0.0.1:8080/jwks.json", []VerifierOption{WithLoopbackHTTP()}, true},
		{"http://localhost/jwks.json", []VerifierOption{WithLoopbackHTTP()}, true},
	} {
		err := w.verifierWith(true, append(tc.opts, WithJWKS(tc.url))...)
		assert.Equal(t, tc.ok, err == nil, "%s %v: %v", tc.url, tc.opts, err)
	}
}

// A nil option, or the zero value of an exported option type, is an error
// from the constructor, never a panic.
func TestNilAndZeroOptionsAreErrors(t *testing.T) {
	w := newOptionWorld(t)
	for name, err := range map[string]error{
		"NewIssuer":         w.issuerWith(nil),
		"NewGateway":        w.gatewayWith(ClockOption{}),
		"NewVerifier":       w.verifierWith(false, PassportHeaderOption{}),
		"NewMemoryStore":    w.memoryStoreWith(nil),
		"NewStorageService": w.storageWith(nil),
		"NewStoreClient":    w.storeClientWith(TimeoutOption{}),
		"SignIn":            w.signInWith(CookieOption{}),
	} {
		assert.EqualError(t, err, "passport: "+name+": zero Option")
	}
	_, err := NewAuthService(w.store, w.issuer, w.dir, nil)
	assert.EqualError(t, err, "passport: NewAuthService: zero Option")
	_, err = NewGateway(testZone, w.dir, Endpoint{URL: authURL}, ObserverOption{})
	assert.EqualError(t, err, "passport: NewGateway: zero Option")
}

// configWith is the configuration opts make, its funcs (which cannot be
// compared) left out.
func configWith[O any](t *testing.T, get func(O) option, opts ...O) config {
	t.Helper()
	c, err := newConfig("test", opts, get)
	require.NoError(t, err)
	c.now, c.public, c.companyless, c.trust, c.forwardedBy = nil, nil, nil, nil, nil
	return *c
}

// Zero, "" and nil mean the option's default, never "off": a feature is
// turned off by an option of its own (WithoutCache, WithoutRetention,
// WithoutCompanyHeader).
func TestZeroMeansTheDefault(t *testing.T) {
	def := configWith[GatewayOption](t, GatewayOption.gatewayOption)
	for name, c := range map[string]config{
		"WithLifetime(0)":          configWith[IssuerOption](t, IssuerOption.issuerOption, WithLifetime(0)),
		"WithJWKSMaxAge(0)":        configWith[IssuerOption](t, IssuerOption.issuerOption, WithJWKSMaxAge(0)),
		"WithClock(nil)":           configWith[IssuerOption](t, IssuerOption.issuerOption, WithClock(nil)),
		"WithTrust(nil)":           configWith[AuthServiceOption](t, AuthServiceOption.authServiceOption, WithTrust(nil)),
		"WithCookie(\"\")":         configWith[GatewayOption](t, GatewayOption.gatewayOption, WithCookie("")),
		"WithPassportHeader(\"\")": configWith[GatewayOption](t, GatewayOption.gatewayOption, WithPassportHeader("")),
		"WithCompanyHeader(\"\")":  configWith[GatewayOption](t, GatewayOption.gatewayOption, WithCompanyHeader("")),
		"WithCacheTTL(0)":          configWith[GatewayOption](t, GatewayOption.gatewayOption, WithCacheTTL(0)),
		"WithCacheSize(0)":         configWith[GatewayOption](t, GatewayOption.gatewayOption, WithCacheSize(0)),
		"WithTimeout(0)":           configWith[GatewayOption](t, GatewayOption.gatewayOption, WithTimeout(0)),
		"WithFailureBudget(0)":     configWith[GatewayOption](t, GatewayOption.gatewayOption, WithFailureBudget(0)),
		"WithPublic(nil)":          configWith[GatewayOption](t, GatewayOption.gatewayOption, WithPublic(nil)),
		"WithForwardedBy(nil)":     configWith[GatewayOption](t, GatewayOption.gatewayOption, WithForwardedBy(nil)),
		"WithLeeway(0)":            configWith[VerifierOption](t, VerifierOption.verifierOption, WithLeeway(0)),
		"WithMaxLifetime(0)":       configWith[VerifierOption](t, VerifierOption.verifierOption, WithMaxLifetime(0)),
		"WithJWKSMaxStale(0)":      configWith[VerifierOption](t, VerifierOption.verifierOption, WithJWKSMaxStale(0)),
		"WithJWKSTransport(nil)":   configWith[VerifierOption](t, VerifierOption.verifierOption, WithJWKSTransport(nil)),
		"WithMaxSessions(0)":       configWith[MemoryStoreOption](t, MemoryStoreOption.memoryStoreOption, WithMaxSessions(0)),
		"WithRetention(0)":         configWith[MemoryStoreOption](t, MemoryStoreOption.memoryStoreOption, WithRetention(0)),
		"WithPathPrefix(\"\")":     configWith[StorageServiceOption](t, StorageServiceOption.storageServiceOption, WithPathPrefix("")),
		"WithSessionLifetime(0)":   configWith[SignInOption](t, SignInOption.signInOption, WithSessionLifetime(0)),
	} {
		assert.True(t, reflect.DeepEqual(def, c), "%s changed the configuration:\n%+v\n%+v", name, def, c)
	}
	// The features a zero used to turn off have options of their own.
	assert.Zero(t, configWith[MemoryStoreOption](t, MemoryStoreOption.memoryStoreOption, WithoutRetention()).retention)
	assert.Empty(t, configWith[GatewayOption](t, GatewayOption.gatewayOption, WithoutCompanyHeader()).companyHeader)
	assert.True(t, configWith[GatewayOption](t, GatewayOption.gatewayOption, WithoutCache()).noCache)
}
