package passport

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cellgate/cellgate/internal/optcheck"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/zone"
)

// Option configures a constructor of this package. Every option names
// itself, and every constructor's doc lists the options it reads: an option
// given to a constructor that does not read it (WithCacheTTL to NewIssuer),
// or given an invalid value, is an error at construction naming both, never
// silently ignored.
// nil given to an option that takes a func, an interface or a pointer
// means the documented default.
type Option struct {
	name  string
	apply func(*config) error
}

// Name returns the option's name, such as "WithClock".
func (o Option) Name() string { return o.name }

func (o Option) parts() (string, func(*config) error) { return o.name, o.apply }

// The options each constructor reads.
var (
	issuerOptions   = []string{"WithLifetime", "WithNextKey", "WithPreviousKeys", "WithJWKSMaxAge", "WithClock", "WithVariants"}
	authOptions     = []string{"WithTrust", "WithSignedCalls"}
	gatewayOptions  = []string{"WithCookie", "WithHeader", "WithCompanyHeader", "WithPublic", "WithCompanyless", "WithCacheTTL", "WithMaxEntries", "WithKeepSessionCookie", "WithTimeout", "WithClock", "WithObserver", "WithFailureBudget", "WithForwardedBy"}
	verifierOptions = []string{"WithJWKS", "WithIssuer", "WithStaticKeys", "WithLoopbackHTTP", "WithLeeway", "WithMaxLifetime", "WithJWKSMaxStale", "WithHeader", "WithTransport", "WithTimeout", "WithClock", "WithObserver"}
	memStoreOptions = []string{"WithMaxEntries", "WithRetention", "WithClock"}
	storageOptions  = []string{"WithPrefix"}
	clientOptions   = []string{"WithTimeout"}
	signInOptions   = []string{"WithCookie", "WithSessionLifetime", "WithInsecureCookie", "WithClock"}
)

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

	// DefaultMaxLifetime (WithMaxLifetime) is the longest passport a
	// Verifier accepts: an Issuer's default lifetime plus the default
	// leeway, so a passport minted by an Issuer whose clock runs ahead
	// by up to the leeway still passes.
	DefaultMaxLifetime = DefaultLifetime + DefaultLeeway
	// DefaultJWKSMaxStale (WithJWKSMaxStale) is how long after a JWKS
	// fetch began a Verifier keeps using its keys while every later fetch
	// fails. An hour is twelve default max-ages: it rides out a restart,
	// a deploy or a network incident of the service that serves the JWKS,
	// yet a key removed from the set (rotated out, or withdrawn after a
	// leak) cannot be kept alive for days by making fetches fail.
	DefaultJWKSMaxStale = time.Hour
)

// Bounds of WithMaxLifetime and WithJWKSMaxStale.
const (
	maxMaxLifetime  = time.Hour + 5*time.Minute // WithLifetime's bound plus WithLeeway's
	minJWKSMaxStale = time.Minute
	maxJWKSMaxStale = 24 * time.Hour
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
	variants   func(Subject) map[string]string // WithVariants; nil: none

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
	failureBudget int
	forwardedBy   edge.Trust

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
	maxLifetime    time.Duration // 0: DefaultMaxLifetime, or WithIssuer's lifetime plus DefaultLeeway
	jwksMaxStale   time.Duration
	refreshEvery   time.Duration
	failureBackoff time.Duration

	// shared
	timeout    time.Duration
	maxEntries int
	retention  time.Duration
	prefix     string
	observer   Observer
}

// newConfig applies opts over the defaults for the constructor ctor
// ("NewGateway"), which reads only the options named in reads.
func newConfig(ctor string, opts []Option, reads []string) (*config, error) {
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
		failureBudget:   DefaultFailureBudget,
		forwardedBy:     edge.TrustNone,
		leeway:          DefaultLeeway,
		jwksMaxStale:    DefaultJWKSMaxStale,
		refreshEvery:    10 * time.Second,
		failureBackoff:  30 * time.Second,
		timeout:         DefaultTimeout,
		maxEntries:      DefaultMaxEntries,
		retention:       DefaultRetention,
		sessionLifetime: DefaultSessionLifetime,
	}
	if err := optcheck.Apply(c, "passport", ctor, opts, reads, Option.parts); err != nil {
		return nil, err
	}
	return c, nil
}

// WithClock sets the clock every expiry is judged by. The default is
// time.Now; tests pass a fake clock instead of sleeping.
func WithClock(now func() time.Time) Option {
	return Option{"WithClock", func(c *config) error {
		if now != nil {
			c.now = now
		}
		return nil
	}}
}

// WithLifetime sets how long a passport minted by an Issuer is valid
// (its exp). The default is DefaultLifetime; NewIssuer refuses more than an hour.
func WithLifetime(d time.Duration) Option {
	return Option{"WithLifetime", func(c *config) error {
		if d <= 0 || d > time.Hour {
			return fmt.Errorf("%s is outside (0, 1h]", d)
		}
		c.lifetime = d
		return nil
	}}
}

// WithNextKey gives an Issuer the key it will sign with after the next
// Rotate. It is published in the JWKS at once, so every cell knows it before
// the first passport it signs arrives.
func WithNextKey(k SigningKey) Option {
	return Option{"WithNextKey", func(c *config) error {
		if err := k.validate(); err != nil {
			return err
		}
		c.next = &k
		return nil
	}}
}

// WithPreviousKeys gives an Issuer public keys that signed earlier passports,
// for instance before a restart. They stay in the JWKS for one passport
// lifetime plus DefaultLeeway from the Issuer's creation.
func WithPreviousKeys(keys ...PublicKey) Option {
	return Option{"WithPreviousKeys", func(c *config) error {
		for _, k := range keys {
			if err := k.validate(); err != nil {
				return err
			}
		}
		c.previous = append(c.previous, keys...)
		return nil
	}}
}

// WithJWKSMaxAge sets the Cache-Control max-age of the JWKS handler.
// The default is DefaultJWKSMaxAge.
func WithJWKSMaxAge(d time.Duration) Option {
	return Option{"WithJWKSMaxAge", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) { c.jwksMaxAge = d })}
}

// WithTrust sets which requests the authentication service answers without
// a signature. The default is edge.TrustBinding: only calls made through an
// edge.Binding, which no header can fake.
func WithTrust(t edge.Trust) Option {
	return Option{"WithTrust", func(c *config) error {
		if t != nil {
			c.trust = t
		}
		return nil
	}}
}

// WithFailureBudget sets how many refused session tokens (unknown,
// expired or revoked) one client address (IPv4 /32, IPv6 /64) may send a
// Gateway a minute, and at once. Past it, the client's requests that no
// cache answers get 429 auth_failures_exceeded with Retry-After, without
// an authentication call, until the budget refills. The default is
// DefaultFailureBudget (60); zero means the default; a negative n is an
// error. Behind a hop (a cell router), set WithForwardedBy too, or every
// client of that hop shares one budget. The cost: while one client of an
// address (an office or carrier NAT) floods made-up tokens, a session of
// that address that no cache holds yet (a fresh sign-in) is refused with
// it until the budget refills; sessions already cached are served.
func WithFailureBudget(n int) Option {
	return Option{"WithFailureBudget", func(c *config) error {
		if n < 0 {
			return fmt.Errorf("%d refusals a minute is negative", n)
		}
		if n > 0 {
			c.failureBudget = n
		}
		return nil
	}}
}

// WithForwardedBy sets which requests come through a trusted hop (an
// edge.Proxy, such as the cell router) that appended the client's address
// to X-Forwarded-For: for those the Gateway's failure budget counts that
// address (edge.ClientAddr). The default (also for nil) trusts no hop:
// the budget counts the address a request came from.
func WithForwardedBy(t edge.Trust) Option {
	return Option{"WithForwardedBy", func(c *config) error {
		if t != nil {
			c.forwardedBy = t
		}
		return nil
	}}
}

// WithSignedCalls lets the authentication service also answer requests that
// carry a valid hmacsig signature, so it can run in another process. The
// signature must bind the body (an RFC 9530 Content-Digest, see
// hmacsig.Verifier.VerifyContent): the gateway's transport is then an
// hmacsig.Transport with ContentDigest set. By default (and for nil) it
// answers no signed call.
func WithSignedCalls(v *hmacsig.Verifier) Option {
	return Option{"WithSignedCalls", func(c *config) error {
		c.signed = v
		return nil
	}}
}

// WithCookie names the session cookie the Gateway reads and SignIn sets.
// The default is DefaultCookie.
func WithCookie(name string) Option {
	return Option{"WithCookie", func(c *config) error {
		if !edge.ValidHeaderName(name) {
			return fmt.Errorf("invalid cookie name %q", name)
		}
		c.cookie = name
		return nil
	}}
}

// WithHeader names the header that carries the passport from the Gateway to
// the cell. The default, Authorization, carries "Bearer <passport>"; any other
// header carries the bare passport.
func WithHeader(name string) Option {
	return Option{"WithHeader", func(c *config) error {
		if !edge.ValidHeaderName(name) {
			return fmt.Errorf("invalid header name %q", name)
		}
		c.header = name
		return nil
	}}
}

// WithCompanyHeader names the public header clients name their company
// with, as zone.WithHeader does for zone.DetectCompany, so the Gateway's 400
// company_missing names the header the client should send. The default is
// zone.DefaultHeader; "" names none.
func WithCompanyHeader(name string) Option {
	return Option{"WithCompanyHeader", func(c *config) error {
		if name != "" && !edge.ValidHeaderName(name) {
			return fmt.Errorf("invalid header name %q", name)
		}
		c.companyHeader = name
		return nil
	}}
}

// WithPublic marks routes that the Gateway lets through without a session.
// A request on such a route that does carry a valid session still gets a
// passport; one whose session is refused goes on without, unless it asks to
// switch protocols (edge.IsUpgrade): that is refused 400 upgrade_refused.
func WithPublic(public func(*http.Request) bool) Option {
	return Option{"WithPublic", func(c *config) error {
		if public != nil {
			c.public = public
		}
		return nil
	}}
}

// WithCompanyless declares the routes of a Gateway that name no company,
// such as GET /rest/v1.0/me. A request that names no company is refused
// with 400 company_missing unless companyless reports true for it; even
// then its passport, which carries no company_id, is minted only when the
// session may act for at least one company of the gateway's own zone
// (403 zone_forbidden otherwise). The default declares none.
func WithCompanyless(companyless func(*http.Request) bool) Option {
	return Option{"WithCompanyless", func(c *config) error {
		if companyless != nil {
			c.companyless = companyless
		}
		return nil
	}}
}

// WithCacheTTL sets how long the Gateway reuses a passport. An entry never
// lives past half of its passport's remaining lifetime, so a cell always
// receives a passport with time to spare. The default is DefaultCacheTTL;
// zero disables the cache.
func WithCacheTTL(d time.Duration) Option {
	return Option{"WithCacheTTL", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) { c.cacheTTL = d })}
}

// WithKeepSessionCookie makes the Gateway forward the session cookie to the
// cell. By default it is removed: a cell needs the passport only.
func WithKeepSessionCookie() Option {
	return Option{"WithKeepSessionCookie", func(c *config) error { c.keepCookie = true; return nil }}
}

// WithSessionLifetime sets how long a session made by SignIn lasts when the
// Session given has no Expires. The default is DefaultSessionLifetime.
func WithSessionLifetime(d time.Duration) Option {
	return Option{"WithSessionLifetime", optcheck.Set(d, optcheck.Positive, func(c *config, d time.Duration) { c.sessionLifetime = d })}
}

// WithInsecureCookie makes SignIn's session cookie leave out Secure, so a
// browser sends it over plain http: for local development only, never
// where a network sits between the browser and the gateway.
func WithInsecureCookie() Option {
	return Option{"WithInsecureCookie", func(c *config) error { c.insecureCookie = true; return nil }}
}

// WithJWKS makes a Verifier load its keys from a JWKS URL, which must be
// https unless WithLoopbackHTTP allows plain http to a loopback host.
func WithJWKS(raw string) Option {
	return Option{"WithJWKS", func(c *config) error {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return fmt.Errorf("%q is not an absolute http(s) URL", raw)
		}
		c.jwksURL = raw
		return nil
	}}
}

// WithStaticKeys gives a Verifier a fixed key set instead of a JWKS URL. It
// does not follow a rotation; for an Issuer in the same process use
// WithIssuer.
func WithStaticKeys(keys ...PublicKey) Option {
	return Option{"WithStaticKeys", func(c *config) error {
		if len(keys) == 0 {
			return errors.New("no keys")
		}
		for _, k := range keys {
			if err := k.validate(); err != nil {
				return err
			}
		}
		c.staticKeys = append(c.staticKeys, keys...)
		return nil
	}}
}

// WithIssuer makes a Verifier read its keys from an Issuer in the same
// process, live: after Stage and Rotate it accepts passports of the new key
// at once, which a WithStaticKeys(issuer.PublicKeys()...) snapshot would
// refuse. The Issuer must name itself as the Verifier's issuer; nil names
// none.
func WithIssuer(i *Issuer) Option {
	return Option{"WithIssuer", func(c *config) error {
		c.issuer = i
		return nil
	}}
}

// WithLoopbackHTTP allows a plain http JWKS URL whose host is a loopback
// address or "localhost", for local development.
func WithLoopbackHTTP() Option {
	return Option{"WithLoopbackHTTP", func(c *config) error { c.loopbackHTTP = true; return nil }}
}

// WithLeeway sets the clock skew a Verifier tolerates on exp, nbf and iat.
// The default is DefaultLeeway.
func WithLeeway(d time.Duration) Option {
	return Option{"WithLeeway", func(c *config) error {
		if d < 0 || d > 5*time.Minute {
			return fmt.Errorf("%s is outside [0, 5m]", d)
		}
		c.leeway = d
		return nil
	}}
}

// WithMaxLifetime sets the longest passport a Verifier accepts: one whose
// exp lies more than d after its iat, or more than d after now, is refused
// with 401 passport_lifetime_too_long, so a passport minted for years (a
// leaked key, a misconfigured issuer) is useless. The default is
// DefaultMaxLifetime; with WithIssuer it is that Issuer's lifetime
// (WithLifetime) plus DefaultLeeway. Zero means the default; a negative
// value or more than 1h5m (WithLifetime's bound plus WithLeeway's) is an
// error. Verifiers of an Issuer with a longer WithLifetime than the
// default must raise it, and so must a verifier whose WithLeeway is longer
// than DefaultLeeway when its issuer's clock may run that far ahead.
func WithMaxLifetime(d time.Duration) Option {
	return Option{"WithMaxLifetime", func(c *config) error {
		if d < 0 || d > maxMaxLifetime {
			return fmt.Errorf("%s is outside [0, %s]", d, maxMaxLifetime)
		}
		c.maxLifetime = d
		return nil
	}}
}

// WithJWKSMaxStale bounds how long a Verifier with WithJWKS keeps using a
// key set after the fetch that brought it began, while every later fetch
// fails. Past the bound it refuses every passport with 503
// passport_keys_stale until a fetch succeeds: a key removed from the JWKS
// must not stay valid for as long as the JWKS is unreachable. The set is
// fetched again after its max-age or half of d, whichever comes first, so
// a failing endpoint is retried (every 30 s) long before the bound. The
// default is DefaultJWKSMaxStale. Zero means the default; a negative
// value, or one outside [1m, 24h], is an error.
func WithJWKSMaxStale(d time.Duration) Option {
	return Option{"WithJWKSMaxStale", func(c *config) error {
		switch {
		case d == 0:
			c.jwksMaxStale = DefaultJWKSMaxStale
		case d < minJWKSMaxStale || d > maxJWKSMaxStale:
			return fmt.Errorf("%s is outside [%s, %s]", d, minJWKSMaxStale, maxJWKSMaxStale)
		default:
			c.jwksMaxStale = d
		}
		return nil
	}}
}

// WithTransport sets the RoundTripper a Verifier fetches the JWKS with.
// The default is edge.NewTransport.
func WithTransport(rt http.RoundTripper) Option {
	return Option{"WithTransport", func(c *config) error { c.transport = rt; return nil }}
}

// WithTimeout bounds one outbound call: the Gateway's call to the
// authentication service, a Verifier's JWKS fetch, a StoreClient call.
// The default is DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return Option{"WithTimeout", optcheck.Set(d, optcheck.Positive, func(c *config, d time.Duration) { c.timeout = d })}
}

// WithMaxEntries bounds the sessions a MemoryStore holds and the passports
// a Gateway caches. The default is DefaultMaxEntries.
func WithMaxEntries(n int) Option {
	return Option{"WithMaxEntries", optcheck.Set(n, optcheck.Positive, func(c *config, n int) { c.maxEntries = n })}
}

// WithRetention sets how long a MemoryStore remembers a session after it
// expired, so a late client hears session_expired rather than
// session_unknown. The default is DefaultRetention.
func WithRetention(d time.Duration) Option {
	return Option{"WithRetention", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) { c.retention = d })}
}

// WithPrefix sets the path prefix the storage service is mounted under,
// such as "/internal". The default is none.
func WithPrefix(p string) Option {
	return Option{"WithPrefix", func(c *config) error {
		if p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/")) {
			return fmt.Errorf(`prefix %q must start with "/" and not end with one`, p)
		}
		c.prefix = p
		return nil
	}}
}
