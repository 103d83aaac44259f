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

// option is one option: its name (for errors) and what it does to the
// config. Each constructor reads its own option type, so an option given to
// a constructor that does not read it (WithCacheTTL to NewIssuer) does not
// compile; an invalid value, a nil option or the zero value of an option
// type is an error at construction naming the constructor and the option.
type option struct {
	name  string
	apply func(*config) error
}

// IssuerOption configures NewIssuer.
type IssuerOption interface{ issuerOption() option }

// AuthServiceOption configures NewAuthService.
type AuthServiceOption interface{ authServiceOption() option }

// GatewayOption configures NewGateway.
type GatewayOption interface{ gatewayOption() option }

// VerifierOption configures NewVerifier.
type VerifierOption interface{ verifierOption() option }

// MemoryStoreOption configures NewMemoryStore.
type MemoryStoreOption interface{ memoryStoreOption() option }

// StorageServiceOption configures NewStorageService.
type StorageServiceOption interface{ storageServiceOption() option }

// StoreClientOption configures NewStoreClient.
type StoreClientOption interface{ storeClientOption() option }

// SignInOption configures SignIn.
type SignInOption interface{ signInOption() option }

// The options one constructor reads.
type (
	issuerOpt         option
	authServiceOpt    option
	gatewayOpt        option
	verifierOpt       option
	memoryStoreOpt    option
	storageServiceOpt option
	signInOpt         option
)

func (o issuerOpt) issuerOption() option                 { return option(o) }
func (o authServiceOpt) authServiceOption() option       { return option(o) }
func (o gatewayOpt) gatewayOption() option               { return option(o) }
func (o verifierOpt) verifierOption() option             { return option(o) }
func (o memoryStoreOpt) memoryStoreOption() option       { return option(o) }
func (o storageServiceOpt) storageServiceOption() option { return option(o) }
func (o signInOpt) signInOption() option                 { return option(o) }

// ClockOption is WithClock, which NewIssuer, NewGateway, NewVerifier,
// NewMemoryStore and SignIn read.
type ClockOption struct{ o option }

func (o ClockOption) issuerOption() option      { return o.o }
func (o ClockOption) gatewayOption() option     { return o.o }
func (o ClockOption) verifierOption() option    { return o.o }
func (o ClockOption) memoryStoreOption() option { return o.o }
func (o ClockOption) signInOption() option      { return o.o }

// CookieOption is WithCookie, which NewGateway and SignIn read.
type CookieOption struct{ o option }

func (o CookieOption) gatewayOption() option { return o.o }
func (o CookieOption) signInOption() option  { return o.o }

// PassportHeaderOption is WithPassportHeader, which NewGateway (the header
// it writes) and NewVerifier (the header it reads) read.
type PassportHeaderOption struct{ o option }

func (o PassportHeaderOption) gatewayOption() option  { return o.o }
func (o PassportHeaderOption) verifierOption() option { return o.o }

// TimeoutOption is WithTimeout, which NewGateway, NewVerifier and
// NewStoreClient read.
type TimeoutOption struct{ o option }

func (o TimeoutOption) gatewayOption() option     { return o.o }
func (o TimeoutOption) verifierOption() option    { return o.o }
func (o TimeoutOption) storeClientOption() option { return o.o }

// ObserverOption is WithObserver, which NewGateway and NewVerifier read.
type ObserverOption struct{ o option }

func (o ObserverOption) gatewayOption() option  { return o.o }
func (o ObserverOption) verifierOption() option { return o.o }

// Defaults, each overridable by the option named beside it.
const (
	DefaultLifetime        = 5 * time.Minute    // WithLifetime: a passport's exp
	DefaultCacheTTL        = time.Minute        // WithCacheTTL: gateway passport cache
	DefaultCookie          = "cellgate_session" // WithCookie: browser session cookie
	DefaultLeeway          = 30 * time.Second   // WithLeeway: clock skew a Verifier accepts
	DefaultJWKSMaxAge      = 5 * time.Minute    // WithJWKSMaxAge: Cache-Control of the JWKS
	DefaultTimeout         = 5 * time.Second    // WithTimeout: one outbound call
	DefaultMaxEntries      = 100_000            // WithMaxSessions, WithCacheSize: memory store and gateway cache bound
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
	noCache       bool
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
	maxLifetime    time.Duration // 0: DefaultMaxLifetime, or WithInProcessIssuer's lifetime plus DefaultLeeway
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
// ("NewGateway"); get takes the option out of one of ctor's options.
func newConfig[O any](ctor string, opts []O, get func(O) option) (*config, error) {
	c := &config{
		now:             time.Now,
		lifetime:        DefaultLifetime,
		jwksMaxAge:      DefaultJWKSMaxAge,
		trust:           edge.TrustBinding,
		cookie:          DefaultCookie,
		header:          "Authorization",
		companyHeader:   zone.DefaultCompanyHeader,
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
	parts := func(o O) (string, func(*config) error) {
		if any(o) == nil { // a nil option
			return "", nil
		}
		opt := get(o)
		return opt.name, opt.apply
	}
	if err := optcheck.Apply(c, "passport", ctor, opts, parts); err != nil {
		return nil, err
	}
	return c, nil
}

// WithClock sets the clock every expiry is judged by. The default (also
// for nil) is time.Now; tests pass a fake clock instead of sleeping.
func WithClock(now func() time.Time) ClockOption {
	return ClockOption{option{"WithClock", func(c *config) error {
		if now != nil {
			c.now = now
		}
		return nil
	}}}
}

// WithLifetime sets how long a passport minted by an Issuer is valid
// (its exp). The default (also for zero) is DefaultLifetime; a negative
// lifetime, or one above an hour, is an error.
func WithLifetime(d time.Duration) IssuerOption {
	return issuerOpt{"WithLifetime", func(c *config) error {
		if d < 0 || d > time.Hour {
			return fmt.Errorf("%s is outside [0, 1h]", d)
		}
		if d > 0 {
			c.lifetime = d
		}
		return nil
	}}
}

// WithNextKey gives an Issuer the key it will sign with after the next
// Rotate. It is published in the JWKS at once, so every cell knows it before
// the first passport it signs arrives. By default none is staged; an
// invalid key (the zero SigningKey among them) is an error.
func WithNextKey(k SigningKey) IssuerOption {
	return issuerOpt{"WithNextKey", func(c *config) error {
		if err := k.validate(); err != nil {
			return err
		}
		c.next = &k
		return nil
	}}
}

// WithPreviousKeys gives an Issuer public keys that signed earlier passports,
// for instance before a restart. They stay in the JWKS for one passport
// lifetime plus DefaultLeeway from the Issuer's creation. The default is
// none.
func WithPreviousKeys(keys ...PublicKey) IssuerOption {
	return issuerOpt{"WithPreviousKeys", func(c *config) error {
		for _, k := range keys {
			if err := k.validate(); err != nil {
				return err
			}
		}
		c.previous = append(c.previous, keys...)
		return nil
	}}
}

// WithJWKSMaxAge sets the Cache-Control max-age of the JWKS handler, which
// is also how long Rotate waits after Stage. The default (also for zero)
// is DefaultJWKSMaxAge; a negative value is an error.
func WithJWKSMaxAge(d time.Duration) IssuerOption {
	return issuerOpt{"WithJWKSMaxAge", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) {
		if d > 0 {
			c.jwksMaxAge = d
		}
	})}
}

// WithTrust sets which requests the authentication service answers without
// a signature. The default (also for nil) is edge.TrustBinding: only calls
// made through an edge.Binding, which no header can fake.
func WithTrust(t edge.Trust) AuthServiceOption {
	return authServiceOpt{"WithTrust", func(c *config) error {
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
// an authentication call, until the budget refills. The default (also for
// zero) is DefaultFailureBudget (60); a negative n is an error. Behind a
// hop (a cell router), set WithForwardedBy too, or every client of that
// hop shares one budget. The cost: while one client of an address (an
// office or carrier NAT) floods made-up tokens, a session of that address
// that no cache holds yet (a fresh sign-in) is refused with it until the
// budget refills; sessions already cached are served.
func WithFailureBudget(n int) GatewayOption {
	return gatewayOpt{"WithFailureBudget", func(c *config) error {
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
func WithForwardedBy(t edge.Trust) GatewayOption {
	return gatewayOpt{"WithForwardedBy", func(c *config) error {
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
func WithSignedCalls(v *hmacsig.Verifier) AuthServiceOption {
	return authServiceOpt{"WithSignedCalls", func(c *config) error {
		c.signed = v
		return nil
	}}
}

// WithCookie names the session cookie the Gateway reads and SignIn sets.
// The default (also for "") is DefaultCookie; a name that is not a valid
// cookie name is an error.
func WithCookie(name string) CookieOption {
	return CookieOption{option{"WithCookie", func(c *config) error {
		if name == "" {
			return nil
		}
		if !edge.ValidHeaderName(name) {
			return fmt.Errorf("invalid cookie name %q", name)
		}
		c.cookie = name
		return nil
	}}}
}

// WithPassportHeader names the header that carries the passport from the
// Gateway to the cell, which its Verifier reads. The default (also for "")
// is Authorization, which carries "Bearer <passport>"; any other header
// carries the bare passport. Not to be confused with WithCompanyHeader (the
// public header clients name their company with).
func WithPassportHeader(name string) PassportHeaderOption {
	return PassportHeaderOption{option{"WithPassportHeader", func(c *config) error {
		if name == "" {
			return nil
		}
		if !edge.ValidHeaderName(name) {
			return fmt.Errorf("invalid header name %q", name)
		}
		c.header = name
		return nil
	}}}
}

// WithCompanyHeader names the public header clients name their company
// with, as zone.WithCompanyHeader does for zone.DetectCompany, so the Gateway's 400
// company_missing names the header the client should send. The default
// (also for "") is zone.DefaultCompanyHeader; WithoutCompanyHeader names none.
func WithCompanyHeader(name string) GatewayOption {
	return gatewayOpt{"WithCompanyHeader", func(c *config) error {
		if name == "" {
			return nil
		}
		if !edge.ValidHeaderName(name) {
			return fmt.Errorf("invalid header name %q", name)
		}
		c.companyHeader = name
		return nil
	}}
}

// WithoutCompanyHeader makes the Gateway's 400 company_missing name no
// header, for a deployment whose clients name their company in the path
// only.
func WithoutCompanyHeader() GatewayOption {
	return gatewayOpt{"WithoutCompanyHeader", func(c *config) error { c.companyHeader = ""; return nil }}
}

// WithPublic marks routes that the Gateway lets through without a session.
// A request on such a route that does carry a valid session still gets a
// passport; one whose session is refused goes on without, unless it asks to
// switch protocols (edge.IsUpgrade): that is refused 400 upgrade_refused.
// The default (also for nil) marks none.
func WithPublic(public func(*http.Request) bool) GatewayOption {
	return gatewayOpt{"WithPublic", func(c *config) error {
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
// (403 zone_forbidden otherwise). The default (also for nil) declares none.
func WithCompanyless(companyless func(*http.Request) bool) GatewayOption {
	return gatewayOpt{"WithCompanyless", func(c *config) error {
		if companyless != nil {
			c.companyless = companyless
		}
		return nil
	}}
}

// WithCacheTTL sets how long the Gateway reuses a passport. An entry never
// lives past half of its passport's remaining lifetime, so a cell always
// receives a passport with time to spare. The default (also for zero) is
// DefaultCacheTTL; a negative value is an error. WithoutCache turns the
// cache off.
func WithCacheTTL(d time.Duration) GatewayOption {
	return gatewayOpt{"WithCacheTTL", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) {
		if d > 0 {
			c.cacheTTL = d
		}
	})}
}

// WithoutCache turns the Gateway's passport cache off: every request asks
// the authentication service (calls for one session and company at once
// are still collapsed into one).
func WithoutCache() GatewayOption {
	return gatewayOpt{"WithoutCache", func(c *config) error { c.noCache = true; return nil }}
}

// WithCacheSize bounds the passports a Gateway caches (one per session and
// company). The default (also for zero) is DefaultMaxEntries; a negative
// value is an error.
func WithCacheSize(n int) GatewayOption {
	return gatewayOpt{"WithCacheSize", optcheck.Set(n, optcheck.NotNegative, func(c *config, n int) {
		if n > 0 {
			c.maxEntries = n
		}
	})}
}

// WithKeepSessionCookie makes the Gateway forward the session cookie to the
// cell. By default it is removed: a cell needs the passport only.
func WithKeepSessionCookie() GatewayOption {
	return gatewayOpt{"WithKeepSessionCookie", func(c *config) error { c.keepCookie = true; return nil }}
}

// WithSessionLifetime sets how long a session made by SignIn lasts when the
// Session given has no Expires. The default (also for zero) is
// DefaultSessionLifetime; a negative value is an error.
func WithSessionLifetime(d time.Duration) SignInOption {
	return signInOpt{"WithSessionLifetime", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) {
		if d > 0 {
			c.sessionLifetime = d
		}
	})}
}

// WithInsecureCookie makes SignIn's session cookie leave out Secure, so a
// browser sends it over plain http: for local development only, never
// where a network sits between the browser and the gateway. By default the
// cookie is Secure.
func WithInsecureCookie() SignInOption {
	return signInOpt{"WithInsecureCookie", func(c *config) error { c.insecureCookie = true; return nil }}
}

// WithJWKS makes a Verifier load its keys from a JWKS URL, which must be
// https unless WithLoopbackHTTP allows plain http to a loopback host. It
// has no default: a Verifier takes exactly one of WithJWKS,
// WithInProcessIssuer and WithStaticKeys.
func WithJWKS(raw string) VerifierOption {
	return verifierOpt{"WithJWKS", func(c *config) error {
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
// WithInProcessIssuer. By default there are none; no keys is an error.
func WithStaticKeys(keys ...PublicKey) VerifierOption {
	return verifierOpt{"WithStaticKeys", func(c *config) error {
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

// WithInProcessIssuer makes a Verifier read its keys from an Issuer in the
// same process, live: after Stage and Rotate it accepts passports of the
// new key at once, which a WithStaticKeys(issuer.PublicKeys()...) snapshot
// would refuse. The Issuer must name itself as the Verifier's
// Expected.Issuer. By default there is none; nil is an error: it would
// give the Verifier no keys.
func WithInProcessIssuer(i *Issuer) VerifierOption {
	return verifierOpt{"WithInProcessIssuer", func(c *config) error {
		if i == nil {
			return errors.New("nil Issuer (did NewIssuer fail?)")
		}
		c.issuer = i
		return nil
	}}
}

// WithLoopbackHTTP allows a plain http JWKS URL whose host is a loopback
// address or "localhost", for local development. By default a JWKS URL
// must be https.
func WithLoopbackHTTP() VerifierOption {
	return verifierOpt{"WithLoopbackHTTP", func(c *config) error { c.loopbackHTTP = true; return nil }}
}

// WithLeeway sets the clock skew a Verifier tolerates on exp, nbf and iat.
// The default (also for zero) is DefaultLeeway; a negative value, or one
// above five minutes, is an error. JWT times are whole seconds, so the
// least leeway that has an effect is time.Second.
func WithLeeway(d time.Duration) VerifierOption {
	return verifierOpt{"WithLeeway", func(c *config) error {
		if d < 0 || d > 5*time.Minute {
			return fmt.Errorf("%s is outside [0, 5m]", d)
		}
		if d > 0 {
			c.leeway = d
		}
		return nil
	}}
}

// WithMaxLifetime sets the longest passport a Verifier accepts: one whose
// exp lies more than d after its iat, or more than d after now, is refused
// with 401 passport_lifetime_too_long, so a passport minted for years (a
// leaked key, a misconfigured issuer) is useless. The default is
// DefaultMaxLifetime; with WithInProcessIssuer it is that Issuer's lifetime
// (WithLifetime) plus DefaultLeeway. Zero means the default; a negative
// value or more than 1h5m (WithLifetime's bound plus WithLeeway's) is an
// error. Verifiers of an Issuer with a longer WithLifetime than the
// default must raise it, and so must a verifier whose WithLeeway is longer
// than DefaultLeeway when its issuer's clock may run that far ahead.
func WithMaxLifetime(d time.Duration) VerifierOption {
	return verifierOpt{"WithMaxLifetime", func(c *config) error {
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
func WithJWKSMaxStale(d time.Duration) VerifierOption {
	return verifierOpt{"WithJWKSMaxStale", func(c *config) error {
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

// WithJWKSTransport sets the RoundTripper a Verifier fetches the JWKS
// with. The default (also for nil) is edge.NewTransport.
func WithJWKSTransport(rt http.RoundTripper) VerifierOption {
	return verifierOpt{"WithJWKSTransport", func(c *config) error { c.transport = rt; return nil }}
}

// WithTimeout bounds one outbound call: the Gateway's call to the
// authentication service, a Verifier's JWKS fetch, a StoreClient call.
// The default (also for zero) is DefaultTimeout; a negative value is an
// error.
func WithTimeout(d time.Duration) TimeoutOption {
	return TimeoutOption{option{"WithTimeout", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) {
		if d > 0 {
			c.timeout = d
		}
	})}}
}

// WithMaxSessions bounds the sessions a MemoryStore holds; past it, the
// least recently used is forgotten. The default (also for zero) is
// DefaultMaxEntries; a negative value is an error.
func WithMaxSessions(n int) MemoryStoreOption {
	return memoryStoreOpt{"WithMaxSessions", optcheck.Set(n, optcheck.NotNegative, func(c *config, n int) {
		if n > 0 {
			c.maxEntries = n
		}
	})}
}

// WithRetention sets how long a MemoryStore remembers a session after it
// expired, so a late client hears session_expired rather than
// session_unknown. The default (also for zero) is DefaultRetention; a
// negative value is an error. WithoutRetention forgets a session when it
// expires.
func WithRetention(d time.Duration) MemoryStoreOption {
	return memoryStoreOpt{"WithRetention", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) {
		if d > 0 {
			c.retention = d
		}
	})}
}

// WithoutRetention makes a MemoryStore forget a session as soon as it
// expires: a late client hears session_unknown.
func WithoutRetention() MemoryStoreOption {
	return memoryStoreOpt{"WithoutRetention", func(c *config) error { c.retention = 0; return nil }}
}

// WithPathPrefix sets the path prefix the storage service is mounted
// under, such as "/internal". The default (also for "") is none; a prefix
// that does not start with "/", or ends with one, is an error.
func WithPathPrefix(p string) StorageServiceOption {
	return storageServiceOpt{"WithPathPrefix", func(c *config) error {
		if p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/")) {
			return fmt.Errorf(`prefix %q must start with "/" and not end with one`, p)
		}
		c.prefix = p
		return nil
	}}
}
