package passport

import (
	"net/http"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/zone"
)

// Option configures the constructors of this package. Each constructor reads
// the options that concern it and ignores the rest, so one option list can be
// shared by a whole topology.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults, each overridable by the option named beside it.
const (
	DefaultLifetime        = 5 * time.Minute    // WithLifetime: a passport's exp
	DefaultCacheTTL        = time.Minute        // WithCacheTTL: gateway passport cache
	DefaultCookie          = "cellgate_session" // WithCookie: browser session cookie
	DefaultLeeway          = 30 * time.Second   // WithLeeway: clock skew a Verifier accepts
	DefaultJWKSMaxAge      = 5 * time.Minute    // WithJWKSMaxAge: Cache-Control of the JWKS
	DefaultTimeout         = 5 * time.Second    // WithTimeout: one outbound call
	DefaultMaxEntries      = 100_000            // WithMaxEntries: memory store and gateway cache bound
	DefaultRetention       = 10 * time.Minute   // WithRetention: how long an expired session is remembered
	DefaultSessionLifetime = 8 * time.Hour      // WithSessionLifetime: a session made by SignIn
)

// MaxPassportSize bounds the passport a Verifier reads; anything longer is
// passport_invalid before a byte of it is decoded.
const MaxPassportSize = 8 << 10

// config holds every knob of the package; newConfig is the one place where
// defaults live. The zero configuration is the safe one: nothing is trusted,
// passports are short-lived and every cache is bounded.
type config struct {
	now func() time.Time

	// Issuer
	lifetime   time.Duration
	next       *SigningKey
	previous   []PublicKey
	jwksMaxAge time.Duration

	// Authentication service
	trust  edge.Trust
	signed *hmacsig.Verifier

	// Gateway
	cookie        string
	header        string
	companyHeader string
	public        func(*http.Request) bool
	companyless   func(*http.Request) bool
	cacheTTL      time.Duration
	keepCookie    bool

	// SignIn
	sessionLifetime time.Duration
	insecureCookie  bool

	// Verifier
	jwksURL        string
	staticKeys     []PublicKey
	issuer         *Issuer
	loopbackHTTP   bool
	leeway         time.Duration
	transport      http.RoundTripper
	refreshEvery   time.Duration
	failureBackoff time.Duration

	// shared
	timeout    time.Duration
	maxEntries int
	retention  time.Duration
	prefix     string
}

func newConfig(opts []Option) *config {
	c := &config{
		now:             time.Now,
		lifetime:        DefaultLifetime,
		jwksMaxAge:      DefaultJWKSMaxAge,
		trust:           edge.TrustBinding,
		cookie:          DefaultCookie,
		header:          "Authorization",
		companyHeader:   zone.DefaultHeader,
		public:          func(*http.Request) bool { return false },
		companyless:     func(*http.Request) bool { return false },
		cacheTTL:        DefaultCacheTTL,
		leeway:          DefaultLeeway,
		refreshEvery:    10 * time.Second,
		failureBackoff:  30 * time.Second,
		timeout:         DefaultTimeout,
		maxEntries:      DefaultMaxEntries,
		retention:       DefaultRetention,
		sessionLifetime: DefaultSessionLifetime,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// WithClock sets the clock every expiry is judged by. The default is
// time.Now; tests pass a fake clock instead of sleeping.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) {
		if now != nil {
			c.now = now
		}
	})
}

// WithLifetime sets how long a passport minted by an Issuer is valid
// (its exp). The default is DefaultLifetime; NewIssuer refuses more than an hour.
func WithLifetime(d time.Duration) Option {
	return optionFunc(func(c *config) { c.lifetime = d })
}

// WithNextKey gives an Issuer the key it will sign with after the next
// Rotate. It is published in the JWKS at once, so every cell knows it before
// the first passport it signs arrives.
func WithNextKey(k SigningKey) Option {
	return optionFunc(func(c *config) { c.next = &k })
}

// WithPreviousKeys gives an Issuer public keys that signed earlier passports,
// for instance before a restart. They stay in the JWKS for one passport
// lifetime plus DefaultLeeway from the Issuer's creation.
func WithPreviousKeys(keys ...PublicKey) Option {
	return optionFunc(func(c *config) { c.previous = append(c.previous, keys...) })
}

// WithJWKSMaxAge sets the Cache-Control max-age of the JWKS handler.
// The default is DefaultJWKSMaxAge.
func WithJWKSMaxAge(d time.Duration) Option {
	return optionFunc(func(c *config) { c.jwksMaxAge = d })
}

// WithTrust sets which requests the authentication service answers without
// a signature. The default is edge.TrustBinding: only calls made through an
// edge.Binding, which no header can fake.
func WithTrust(t edge.Trust) Option {
	return optionFunc(func(c *config) {
		if t != nil {
			c.trust = t
		}
	})
}

// WithSignedCalls lets the authentication service also answer requests that
// carry a valid hmacsig signature, so it can run in another process.
func WithSignedCalls(v *hmacsig.Verifier) Option {
	return optionFunc(func(c *config) { c.signed = v })
}

// WithCookie names the session cookie the Gateway reads and SignIn sets.
// The default is DefaultCookie.
func WithCookie(name string) Option {
	return optionFunc(func(c *config) { c.cookie = name })
}

// WithHeader names the header that carries the passport from the Gateway to
// the cell. The default, Authorization, carries "Bearer <passport>"; any other
// header carries the bare passport.
func WithHeader(name string) Option {
	return optionFunc(func(c *config) { c.header = name })
}

// WithCompanyHeader names the public header clients name their company
// with, as zone.WithHeader does for zone.DetectCompany, so the Gateway's 400
// company_missing names the header the client should send. The default is
// zone.DefaultHeader; "" names none.
func WithCompanyHeader(name string) Option {
	return optionFunc(func(c *config) { c.companyHeader = name })
}

// WithPublic marks routes that the Gateway lets through without a session.
// A request on such a route that does carry a valid session still gets a
// passport; one whose session is refused goes on without.
func WithPublic(public func(*http.Request) bool) Option {
	return optionFunc(func(c *config) {
		if public != nil {
			c.public = public
		}
	})
}

// WithCompanyless declares the routes of a Gateway that name no company,
// such as GET /rest/v1.0/me. A request that names no company is refused
// with 400 company_missing unless companyless reports true for it; even
// then its passport, which carries no company_id, is minted only when the
// session may act for at least one company of the gateway's own zone
// (403 zone_forbidden otherwise). The default declares none.
func WithCompanyless(companyless func(*http.Request) bool) Option {
	return optionFunc(func(c *config) {
		if companyless != nil {
			c.companyless = companyless
		}
	})
}

// WithCacheTTL sets how long the Gateway reuses a passport. An entry never
// lives past half of its passport's remaining lifetime, so a cell always
// receives a passport with time to spare. The default is DefaultCacheTTL;
// zero or less disables the cache.
func WithCacheTTL(d time.Duration) Option {
	return optionFunc(func(c *config) { c.cacheTTL = d })
}

// WithKeepSessionCookie makes the Gateway forward the session cookie to the
// cell. By default it is removed: a cell needs the passport only.
func WithKeepSessionCookie() Option {
	return optionFunc(func(c *config) { c.keepCookie = true })
}

// WithSessionLifetime sets how long a session made by SignIn lasts when the
// Session given has no Expires. The default is DefaultSessionLifetime.
func WithSessionLifetime(d time.Duration) Option {
	return optionFunc(func(c *config) { c.sessionLifetime = d })
}

// WithInsecureCookie makes SignIn's session cookie leave out Secure, so a
// browser sends it over plain http: for local development only, never
// where a network sits between the browser and the gateway.
func WithInsecureCookie() Option {
	return optionFunc(func(c *config) { c.insecureCookie = true })
}

// WithJWKS makes a Verifier load its keys from a JWKS URL, which must be
// https unless WithLoopbackHTTP allows plain http to a loopback host.
func WithJWKS(url string) Option {
	return optionFunc(func(c *config) { c.jwksURL = url })
}

// WithStaticKeys gives a Verifier a fixed key set instead of a JWKS URL. It
// does not follow a rotation; for an Issuer in the same process use
// WithIssuer.
func WithStaticKeys(keys ...PublicKey) Option {
	return optionFunc(func(c *config) { c.staticKeys = append(c.staticKeys, keys...) })
}

// WithIssuer makes a Verifier read its keys from an Issuer in the same
// process, live: after Stage and Rotate it accepts passports of the new key
// at once, which a WithStaticKeys(issuer.PublicKeys()...) snapshot would
// refuse. The Issuer must name itself as the Verifier's issuer.
func WithIssuer(i *Issuer) Option {
	return optionFunc(func(c *config) { c.issuer = i })
}

// WithLoopbackHTTP allows a plain http JWKS URL whose host is a loopback
// address or "localhost", for local development.
func WithLoopbackHTTP() Option {
	return optionFunc(func(c *config) { c.loopbackHTTP = true })
}

// WithLeeway sets the clock skew a Verifier tolerates on exp, nbf and iat.
// The default is DefaultLeeway.
func WithLeeway(d time.Duration) Option {
	return optionFunc(func(c *config) { c.leeway = d })
}

// WithTransport sets the RoundTripper a Verifier fetches the JWKS with.
// The default is edge.NewTransport.
func WithTransport(rt http.RoundTripper) Option {
	return optionFunc(func(c *config) { c.transport = rt })
}

// WithTimeout bounds one outbound call: the Gateway's call to the
// authentication service, a Verifier's JWKS fetch, a StoreClient call.
// The default is DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// WithMaxEntries bounds the sessions a MemoryStore holds and the passports
// a Gateway caches. The default is DefaultMaxEntries.
func WithMaxEntries(n int) Option {
	return optionFunc(func(c *config) { c.maxEntries = n })
}

// WithRetention sets how long a MemoryStore remembers a session after it
// expired, so a late client hears session_expired rather than
// session_unknown. The default is DefaultRetention.
func WithRetention(d time.Duration) Option {
	return optionFunc(func(c *config) { c.retention = d })
}

// WithPrefix sets the path prefix the storage service is mounted under,
// such as "/internal". The default is none.
func WithPrefix(p string) Option {
	return optionFunc(func(c *config) { c.prefix = p })
}
