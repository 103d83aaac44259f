package zone

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/cellgate/cellgate/edge"
)

// Option configures the constructors of this package. Each constructor
// reads the options that concern it and ignores the rest, so one option list
// can be shared by a whole chain.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

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
	size, negSize                             int

	maxBody    int64
	retryAfter time.Duration
	maxAge     time.Duration

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

func newConfig(opts []Option) *config {
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
		size:          100_000,
		negSize:       10_000,
		maxBody:       16 << 10,
		retryAfter:    5 * time.Second,
		maxAge:        60 * time.Second,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

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
// believes their Cellgate-Company-Id header. The default trusts nothing.
func WithTrust(t edge.Trust) Option {
	return optionFunc(func(c *config) {
		if t != nil {
			c.trust = t
		}
	})
}

// WithHeader names the public header that carries the company id
// (DefaultHeader unless set); "" disables it.
func WithHeader(name string) Option {
	return optionFunc(func(c *config) { c.header = name })
}

// WithPathWildcard names the http.ServeMux wildcard that carries the company
// id (DefaultWildcard unless set); "" disables it.
func WithPathWildcard(name string) Option {
	return optionFunc(func(c *config) { c.wildcard = name })
}

// WithPathSegment names the path segment followed by the company id, as
// "companies" in /rest/v1.0/companies/{id}/projects (DefaultSegment unless
// set); "" disables it. It is read when the wildcard is not set.
func WithPathSegment(name string) Option {
	return optionFunc(func(c *config) { c.segment = name })
}

// WithQueryParam names the query parameter that carries the company id
// (DefaultQueryParam unless set); "" disables it. The query is read, never
// logged.
func WithQueryParam(name string) Option {
	return optionFunc(func(c *config) { c.query = name })
}

// WithValidator replaces ValidCompanyID as the check of a company id, for
// tenants named by UUIDs, slugs or anything else. Whatever it accepts, an id
// is also held to what every hop can carry unchanged in a path segment, a
// header and a log line: 1 to 128 bytes of letters, digits, '-', '_', '.'
// and '~', and neither "." nor "..".
func WithValidator(valid func(id string) bool) Option {
	return optionFunc(func(c *config) {
		if valid != nil {
			c.validate = valid
		}
	})
}

// WithOptional lets a request without a company through DetectCompany and
// Resolve, which then add nothing to its context. A malformed or
// conflicting company is still refused.
func WithOptional() Option {
	return optionFunc(func(c *config) { c.optional = true })
}

// WithClock sets the clock that every expiry is checked against, for tests.
// The default is time.Now.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) {
		if now != nil {
			c.now = now
		}
	})
}

// WithLogger sets the logger of the router and the caching directory. The
// default is slog.Default() at the time of logging.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithTransport sets the RoundTripper of the HTTP directory, for example
// an hmacsig signing transport. The default is edge.NewTransport; either
// way the request ID is propagated through edge.Outbound.
func WithTransport(rt http.RoundTripper) Option {
	return optionFunc(func(c *config) { c.transport = rt })
}

// WithTTL sets how long a cached zone is fresh (default 5 min).
func WithTTL(d time.Duration) Option {
	return optionFunc(func(c *config) { c.ttl = d })
}

// WithStaleWhileRevalidate sets how long after its TTL a cached zone is
// still served while one background refresh runs (default 1 min).
func WithStaleWhileRevalidate(d time.Duration) Option {
	return optionFunc(func(c *config) { c.swr = d })
}

// WithStaleIfError sets the hard maximum age of a cached zone served when
// the directory fails (default 1 h).
func WithStaleIfError(maxAge time.Duration) Option {
	return optionFunc(func(c *config) { c.maxStale = maxAge })
}

// WithNegativeTTL sets how long an unknown company is remembered as
// unknown (default 30 s).
func WithNegativeTTL(d time.Duration) Option {
	return optionFunc(func(c *config) { c.negTTL = d })
}

// WithCacheSize bounds the number of cached zones (default 100,000).
func WithCacheSize(n int) Option {
	return optionFunc(func(c *config) { c.size = n })
}

// WithNegativeCacheSize bounds the number of remembered unknown companies
// (default 10,000), apart from the zones so that a scan of random ids
// cannot evict real entries.
func WithNegativeCacheSize(n int) Option {
	return optionFunc(func(c *config) { c.negSize = n })
}

// WithLookupTimeout bounds one upstream directory call (default 5 s). The
// call runs on its own context, so a caller that gives up does not cancel
// it for the others waiting on it.
func WithLookupTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.lookupTimeout = d })
}

// WithMaxResponseBytes bounds the body of a directory answer (default 16 KiB).
func WithMaxResponseBytes(n int64) Option {
	return optionFunc(func(c *config) { c.maxBody = n })
}

// WithRetryAfter sets the Retry-After of zone_directory_unavailable
// (default 5 s).
func WithRetryAfter(d time.Duration) Option {
	return optionFunc(func(c *config) { c.retryAfter = d })
}

// WithCacheMaxAge sets the private cache lifetime of BaseURLHandler's
// answers (default 60 s); zero or less sends Cache-Control: no-store.
func WithCacheMaxAge(d time.Duration) Option {
	return optionFunc(func(c *config) { c.maxAge = d })
}

// WithCanary sends a stable share of zone's companies to an alternate
// gateway (see Canary). Only the Router reads it.
func WithCanary(zone string, cn Canary) Option {
	return optionFunc(func(c *config) {
		if c.canaries == nil {
			c.canaries = make(map[string]Canary)
		}
		c.canaries[zone] = cn
	})
}

// WithFlags sets what evaluates the flags of canaries (Canary.Flag), such
// as featureflag.Evaluator(client) for OpenFeature. Only the Router reads it.
func WithFlags(flags FlagFunc) Option {
	return optionFunc(func(c *config) { c.flags = flags })
}
