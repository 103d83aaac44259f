package zone

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
	"unicode"

	"github.com/cellgate/cellgate/internal/optcheck"

	"github.com/cellgate/cellgate/edge"
)

// Option configures a constructor of this package. Every option names
// itself, and every constructor's doc lists the options it reads: an option
// given to a constructor that does not read it, or given an invalid value,
// is an error at construction naming both, never silently ignored. The
// middleware constructors (DetectCompany, Resolve, BaseURLHandler), which
// return no error, panic at construction instead; never while serving.
// nil given to an option that takes a func, an interface or a pointer
// means the documented default.
type Option struct {
	name  string
	apply func(*config) error
}

// Name returns the option's name, such as "WithClock".
func (o Option) Name() string { return o.name }

func (o Option) parts() (string, func(*config) error) { return o.name, o.apply }

// config holds every knob of the package; newConfig is the one place where
// defaults live. The zero configuration is the safe one: nothing inbound is
// trusted and a company is required.
type config struct {
	trust     edge.Trust
	header    string
	wildcard  string
	segment   string
	query     string
	validate  func(string) bool
	optional  bool
	now       func() time.Time
	logger    *slog.Logger
	transport http.RoundTripper

	// caching directory
	ttl, swr, maxStale, negTTL, lookupTimeout time.Duration
	retryBackoff                              time.Duration
	size, negSize                             int

	maxBody    int64
	retryAfter time.Duration
	maxAge     time.Duration

	observer DirectoryObserver

	canaries map[string]Canary
	flags    FlagFunc
}

// Defaults, each overridable by the option of the same name.
const (
	DefaultHeader     = "Procore-Company-Id" // public header naming the company
	DefaultWildcard   = "companyId"          // ServeMux wildcard naming the company
	DefaultSegment    = "companies"          // path segment before the company id
	DefaultQueryParam = "company_id"         // query parameter naming the company
)

// defaultRetryAfter is the Retry-After of zone_directory_unavailable.
const defaultRetryAfter = 5 * time.Second

// newConfig applies opts over the defaults for the constructor ctor
// ("NewRouter"), which reads only the options named in reads.
func newConfig(ctor string, opts []Option, reads []string) (*config, error) {
	c := &config{
		trust:         edge.TrustNone,
		header:        DefaultHeader,
		wildcard:      DefaultWildcard,
		segment:       DefaultSegment,
		query:         DefaultQueryParam,
		validate:      ValidCompanyID,
		now:           time.Now,
		ttl:           5 * time.Minute,
		swr:           time.Minute,
		maxStale:      time.Hour,
		negTTL:        30 * time.Second,
		lookupTimeout: 5 * time.Second,
		retryBackoff:  5 * time.Second,
		size:          100_000,
		negSize:       10_000,
		maxBody:       16 << 10,
		retryAfter:    defaultRetryAfter,
		maxAge:        60 * time.Second,
	}
	if err := optcheck.Apply(c, "zone", ctor, opts, reads, Option.parts); err != nil {
		return nil, err
	}
	return c, nil
}

// mustConfig is newConfig for the middleware constructors, which return no
// error: a wrong option is a programming error found at start-up.
func mustConfig(ctor string, opts []Option, reads []string) *config {
	c, err := newConfig(ctor, opts, reads)
	if err != nil {
		panic(err)
	}
	return c
}

// The options each constructor reads.
var (
	detectOptions  = []string{"WithTrust", "WithHeader", "WithPathWildcard", "WithPathSegment", "WithQueryParam", "WithValidator", "WithOptional"}
	resolveOptions = []string{"WithHeader", "WithOptional", "WithRetryAfter"}
	baseURLOptions = []string{"WithHeader", "WithRetryAfter", "WithCacheMaxAge", "WithTrust"}
	routerOptions  = []string{"WithCanary", "WithFlags", "WithTrust", "WithLogger"}
	cacheOptions   = []string{"WithTTL", "WithStaleWhileRevalidate", "WithStaleIfError", "WithNegativeTTL",
		"WithCacheSize", "WithNegativeCacheSize", "WithLookupTimeout", "WithClock", "WithRetryBackoff",
		"WithDirectoryObserver"}
	httpDirOptions = []string{"WithTransport", "WithMaxResponseBytes"}
	staticOptions  = []string{"WithValidator"}
)

// validID reports whether id passes the configured check and is safe to
// carry anywhere (see WithValidator).
func (c *config) validID(id string) bool {
	return portableID(id) && c.validate(id)
}

// portableID reports whether id is 1 to 128 RFC 3986 unreserved characters
// and no dot segment: a raw id with escapes in it is no valid id, so a cell
// that decodes a path and one that does not cannot read two companies.
func portableID(id string) bool {
	if len(id) == 0 || len(id) > 128 || id == "." || id == ".." {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			return false
		}
	}
	return true
}

func (c *config) log() *slog.Logger {
	if c.logger != nil {
		return c.logger
	}
	return slog.Default()
}

// WithTrust sets which inbound requests come from a trusted hop, such as
// edge.TrustBinding for a gateway called by the router: DetectCompany then
// believes their Cellgate-Company-Id header, and the Router keeps their
// X-Forwarded-For chain, and BaseURLHandler their X-Forwarded-Proto. The
// default (also for nil) trusts nothing.
func WithTrust(t edge.Trust) Option {
	return Option{"WithTrust", func(c *config) error {
		if t != nil {
			c.trust = t
		}
		return nil
	}}
}

// WithHeader names the public header that carries the company id
// (DefaultHeader unless set); "" disables it. DetectCompany reads it, and
// every 400 company_missing names it; BaseURLHandler varies on it.
func WithHeader(name string) Option {
	return Option{"WithHeader", func(c *config) error {
		if name != "" && !edge.ValidHeaderName(name) {
			return fmt.Errorf("invalid header name %q", name)
		}
		c.header = name
		return nil
	}}
}

// WithPathWildcard names the http.ServeMux wildcard that carries the company
// id (DefaultWildcard unless set); "" disables it.
func WithPathWildcard(name string) Option {
	return Option{"WithPathWildcard", func(c *config) error {
		if name != "" && !goIdentifier(name) {
			return fmt.Errorf("%q is no ServeMux wildcard name", name)
		}
		c.wildcard = name
		return nil
	}}
}

// WithPathSegment names the path segment followed by the company id, as
// "companies" in /rest/v1.0/companies/{id}/projects (DefaultSegment unless
// set); "" disables it. It is read when the wildcard is not set.
func WithPathSegment(name string) Option {
	return Option{"WithPathSegment", func(c *config) error {
		if name != "" && !portableID(name) {
			return fmt.Errorf("%q is no plain path segment", name)
		}
		c.segment = name
		return nil
	}}
}

// WithQueryParam names the query parameter that carries the company id
// (DefaultQueryParam unless set); "" disables it. The query is read, never
// logged.
func WithQueryParam(name string) Option {
	return Option{"WithQueryParam", func(c *config) error {
		if name != "" && !portableID(name) {
			return fmt.Errorf("%q is no plain query parameter name", name)
		}
		c.query = name
		return nil
	}}
}

// WithValidator replaces ValidCompanyID as the check of a company id, for
// tenants named by UUIDs, slugs or anything else. Whatever it accepts, an id
// is also held to what every hop can carry unchanged in a path segment, a
// header and a log line: 1 to 128 bytes of letters, digits, '-', '_', '.'
// and '~', and neither "." nor "..". nil means ValidCompanyID.
func WithValidator(valid func(id string) bool) Option {
	return Option{"WithValidator", func(c *config) error {
		if valid == nil {
			valid = ValidCompanyID
		}
		c.validate = valid
		return nil
	}}
}

// WithOptional lets a request without a company through DetectCompany and
// Resolve, which then add nothing to its context. A malformed or
// conflicting company is still refused.
func WithOptional() Option {
	return Option{"WithOptional", func(c *config) error { c.optional = true; return nil }}
}

// WithClock sets the clock that every expiry is checked against, for tests.
// The default is time.Now.
func WithClock(now func() time.Time) Option {
	return Option{"WithClock", func(c *config) error {
		if now != nil {
			c.now = now
		}
		return nil
	}}
}

// WithLogger sets the logger of the Router. The default is slog.Default()
// at the time of logging.
func WithLogger(l *slog.Logger) Option {
	return Option{"WithLogger", func(c *config) error { c.logger = l; return nil }}
}

// WithTransport sets the RoundTripper of the HTTP directory, for example
// an hmacsig signing transport. The default is edge.NewTransport; either
// way the request ID is propagated through edge.Outbound.
func WithTransport(rt http.RoundTripper) Option {
	return Option{"WithTransport", func(c *config) error { c.transport = rt; return nil }}
}

// WithTTL sets how long a cached zone is fresh (default 5 min).
func WithTTL(d time.Duration) Option {
	return Option{"WithTTL", optcheck.Set(d, optcheck.Positive, func(c *config, d time.Duration) { c.ttl = d })}
}

// WithStaleWhileRevalidate sets how long after its TTL a cached zone is
// still served while one background refresh runs (default 1 min).
func WithStaleWhileRevalidate(d time.Duration) Option {
	return Option{"WithStaleWhileRevalidate", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) { c.swr = d })}
}

// WithStaleIfError sets the hard maximum age of a cached zone served when
// the directory fails (default 1 h).
func WithStaleIfError(maxAge time.Duration) Option {
	return Option{"WithStaleIfError", optcheck.Set(maxAge, optcheck.NotNegative, func(c *config, maxAge time.Duration) { c.maxStale = maxAge })}
}

// WithNegativeTTL sets how long an unknown company is remembered as
// unknown (default 30 s).
func WithNegativeTTL(d time.Duration) Option {
	return Option{"WithNegativeTTL", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) { c.negTTL = d })}
}

// WithCacheSize bounds the number of cached zones (default 100,000).
func WithCacheSize(n int) Option {
	return Option{"WithCacheSize", optcheck.Set(n, optcheck.Positive, func(c *config, n int) { c.size = n })}
}

// WithNegativeCacheSize bounds the number of remembered unknown companies
// (default 10,000), apart from the zones so that a scan of random ids
// cannot evict real entries.
func WithNegativeCacheSize(n int) Option {
	return Option{"WithNegativeCacheSize", optcheck.Set(n, optcheck.Positive, func(c *config, n int) { c.negSize = n })}
}

// WithLookupTimeout bounds one upstream directory call (default 5 s). The
// call runs on its own context, so a caller that gives up does not cancel
// it for the others waiting on it.
func WithLookupTimeout(d time.Duration) Option {
	return Option{"WithLookupTimeout", optcheck.Set(d, optcheck.Positive, func(c *config, d time.Duration) { c.lookupTimeout = d })}
}

// WithRetryBackoff sets how long a CachingDirectory waits, after a
// background refresh of a company failed, before it starts another (default
// 5 s): meanwhile the stale zone is served at once, so a hung directory
// holds one call at a time, not every request.
func WithRetryBackoff(d time.Duration) Option {
	return Option{"WithRetryBackoff", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) { c.retryBackoff = d })}
}

// WithMaxResponseBytes bounds the body of a directory answer (default 16 KiB).
func WithMaxResponseBytes(n int64) Option {
	return Option{"WithMaxResponseBytes", optcheck.Set(n, optcheck.Positive, func(c *config, n int64) { c.maxBody = n })}
}

// WithRetryAfter sets the Retry-After of zone_directory_unavailable
// (default 5 s).
func WithRetryAfter(d time.Duration) Option {
	return Option{"WithRetryAfter", optcheck.Set(d, optcheck.Positive, func(c *config, d time.Duration) { c.retryAfter = d })}
}

// WithCacheMaxAge sets the private cache lifetime of BaseURLHandler's
// answers (default 60 s); zero or less sends Cache-Control: no-store.
func WithCacheMaxAge(d time.Duration) Option {
	return Option{"WithCacheMaxAge", func(c *config) error { c.maxAge = d; return nil }}
}

// WithCanary sends a stable share of zone's companies to an alternate
// gateway (see Canary), one canary per zone.
func WithCanary(zone string, cn Canary) Option {
	return Option{"WithCanary", func(c *config) error {
		switch {
		case !ValidZoneName(zone):
			return fmt.Errorf("invalid zone name %q", zone)
		case !(cn.Percent >= 0 && cn.Percent <= 100):
			return fmt.Errorf("zone %s: percent %v outside 0–100", zone, cn.Percent)
		}
		if _, dup := c.canaries[zone]; dup {
			return fmt.Errorf("zone %s has a canary already", zone)
		}
		if c.canaries == nil {
			c.canaries = make(map[string]Canary)
		}
		c.canaries[zone] = cn
		return nil
	}}
}

// WithFlags sets what evaluates the flags of canaries (Canary.Flag), such
// as featureflag.Evaluator(client) for OpenFeature.
func WithFlags(flags FlagFunc) Option {
	return Option{"WithFlags", func(c *config) error { c.flags = flags; return nil }}
}

// goIdentifier reports whether s can name a ServeMux wildcard: a Go
// identifier.
func goIdentifier(s string) bool {
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return s != ""
}
