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

// option is one option: its name, for errors, and what it does to the
// config. An option's function may refuse its value; the constructor then
// returns an error naming package, constructor and option.
type option struct {
	name  string
	apply func(*config) error
}

// Each constructor, or family of constructors that reads the same options,
// has an option type of its own, so an option given to a constructor that
// does not read it is a compile error. An option that several
// constructors read returns a named type that is an option of each
// (TrustOption, CompanyHeaderOption, OptionalOption, RetryAfterOption,
// CompanyValidatorOption). A nil option, or the zero value of one of those
// types, is an error at construction; so is an invalid value.
type (
	// DetectOption configures DetectCompany.
	DetectOption interface{ detectOption() option }
	// ResolveOption configures Resolve.
	ResolveOption interface{ resolveOption() option }
	// BaseURLOption configures NewBaseURLHandler.
	BaseURLOption interface{ baseURLOption() option }
	// RouterOption configures NewRouter.
	RouterOption interface{ routerOption() option }
	// CacheOption configures NewCachingDirectory.
	CacheOption interface{ cacheOption() option }
	// HTTPDirectoryOption configures NewHTTPDirectory.
	HTTPDirectoryOption interface{ httpDirectoryOption() option }
	// StaticDirectoryOption configures NewStaticDirectory,
	// ReadStaticDirectory and LoadStaticDirectory.
	StaticDirectoryOption interface{ staticDirectoryOption() option }
)

// The options that one constructor reads.
type (
	detectOpt  option
	baseURLOpt option
	routerOpt  option
	cacheOpt   option
	httpDirOpt option
)

func (o detectOpt) detectOption() option         { return option(o) }
func (o baseURLOpt) baseURLOption() option       { return option(o) }
func (o routerOpt) routerOption() option         { return option(o) }
func (o cacheOpt) cacheOption() option           { return option(o) }
func (o httpDirOpt) httpDirectoryOption() option { return option(o) }

// TrustOption is WithTrust's: an option of DetectCompany,
// NewBaseURLHandler and NewRouter.
type TrustOption struct{ o option }

func (o TrustOption) detectOption() option  { return o.o }
func (o TrustOption) baseURLOption() option { return o.o }
func (o TrustOption) routerOption() option  { return o.o }

// CompanyHeaderOption is WithCompanyHeader's and WithoutCompanyHeader's:
// an option of DetectCompany, Resolve and NewBaseURLHandler, which must
// agree on the header (the one DetectCompany reads is the one
// company_missing names and the base URL answer varies on).
type CompanyHeaderOption struct{ o option }

func (o CompanyHeaderOption) detectOption() option  { return o.o }
func (o CompanyHeaderOption) resolveOption() option { return o.o }
func (o CompanyHeaderOption) baseURLOption() option { return o.o }

// OptionalOption is WithOptional's: an option of DetectCompany and Resolve.
type OptionalOption struct{ o option }

func (o OptionalOption) detectOption() option  { return o.o }
func (o OptionalOption) resolveOption() option { return o.o }

// RetryAfterOption is WithRetryAfter's: an option of Resolve and
// NewBaseURLHandler.
type RetryAfterOption struct{ o option }

func (o RetryAfterOption) resolveOption() option { return o.o }
func (o RetryAfterOption) baseURLOption() option { return o.o }

// CompanyValidatorOption is WithCompanyValidator's: an option of
// DetectCompany and of the static directory's constructors
// (NewStaticDirectory, ReadStaticDirectory, LoadStaticDirectory).
type CompanyValidatorOption struct{ o option }

func (o CompanyValidatorOption) detectOption() option          { return o.o }
func (o CompanyValidatorOption) staticDirectoryOption() option { return o.o }

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

// Defaults of DetectCompany's sources, each overridable by its option.
const (
	DefaultCompanyHeader = "Procore-Company-Id" // public header naming the company (WithCompanyHeader)
	DefaultWildcard      = "companyId"          // ServeMux wildcard naming the company (WithPathWildcard)
	DefaultSegment       = "companies"          // path segment before the company id (WithPathSegment)
	DefaultQueryParam    = "company_id"         // query parameter naming the company (WithQueryParam)
)

// defaultRetryAfter is the Retry-After of zone_directory_unavailable.
const defaultRetryAfter = 5 * time.Second

// Defaults of the caching directory, the HTTP directory and the base URL
// handler, each overridable by the option named beside it.
const (
	defaultTTL           = 5 * time.Minute  // WithTTL
	defaultSWR           = time.Minute      // WithStaleWhileRevalidate
	defaultMaxStale      = time.Hour        // WithStaleIfError
	defaultNegTTL        = 30 * time.Second // WithNegativeTTL
	defaultLookupTimeout = 5 * time.Second  // WithLookupTimeout
	defaultRetryBackoff  = 5 * time.Second  // WithRetryBackoff
	defaultCacheSize     = 100_000          // WithCacheSize
	defaultNegSize       = 10_000           // WithNegativeCacheSize
	defaultMaxBody       = 16 << 10         // WithMaxResponseBytes
	defaultMaxAge        = 60 * time.Second // WithResponseMaxAge
)

// newConfig applies opts, taken apart by get, over the defaults for the
// constructor ctor ("NewRouter").
func newConfig[O any](ctor string, opts []O, get func(O) option) (*config, error) {
	c := &config{
		trust:         edge.TrustNone,
		header:        DefaultCompanyHeader,
		wildcard:      DefaultWildcard,
		segment:       DefaultSegment,
		query:         DefaultQueryParam,
		validate:      ValidCompanyID,
		now:           time.Now,
		ttl:           defaultTTL,
		swr:           defaultSWR,
		maxStale:      defaultMaxStale,
		negTTL:        defaultNegTTL,
		lookupTimeout: defaultLookupTimeout,
		retryBackoff:  defaultRetryBackoff,
		size:          defaultCacheSize,
		negSize:       defaultNegSize,
		maxBody:       defaultMaxBody,
		retryAfter:    defaultRetryAfter,
		maxAge:        defaultMaxAge,
	}
	parts := func(o O) (string, func(*config) error) {
		if any(o) == nil {
			return "", nil // a nil option is refused as the zero one is
		}
		op := get(o)
		return op.name, op.apply
	}
	if err := optcheck.Apply(c, "zone", ctor, opts, parts); err != nil {
		return nil, err
	}
	return c, nil
}

// orDefault returns v, or def when v is zero: zero means the default.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// duration is the apply function of an option that sets a duration: zero
// means def, a negative d is an error.
func duration(d, def time.Duration, set func(*config, time.Duration)) func(*config) error {
	return optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) { set(c, orDefault(d, def)) })
}

// validID reports whether id passes the configured check and is safe to
// carry anywhere (see WithCompanyValidator).
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
// believes their Cellgate-Company-Id header, the Router keeps their
// X-Forwarded-For chain, and NewBaseURLHandler their X-Forwarded-Proto. The
// default (also for nil) trusts nothing.
func WithTrust(t edge.Trust) TrustOption {
	return TrustOption{option{"WithTrust", func(c *config) error {
		c.trust = orTrustNone(t)
		return nil
	}}}
}

func orTrustNone(t edge.Trust) edge.Trust {
	if t == nil {
		return edge.TrustNone
	}
	return t
}

// WithCompanyHeader names the public header that carries the company id
// (default DefaultCompanyHeader, also for ""). DetectCompany reads it, every 400
// company_missing names it, and NewBaseURLHandler's answers vary on it;
// give DetectCompany, Resolve and NewBaseURLHandler the same one.
// WithoutCompanyHeader reads no header.
func WithCompanyHeader(name string) CompanyHeaderOption {
	return CompanyHeaderOption{option{"WithCompanyHeader", func(c *config) error {
		if name == "" {
			name = DefaultCompanyHeader
		}
		if !edge.ValidHeaderName(name) {
			return fmt.Errorf("invalid header name %q", name)
		}
		c.header = name
		return nil
	}}}
}

// WithoutCompanyHeader makes DetectCompany read no header (the company
// comes from the path or the query), and company_missing name none.
func WithoutCompanyHeader() CompanyHeaderOption {
	return CompanyHeaderOption{option{"WithoutCompanyHeader", func(c *config) error { c.header = ""; return nil }}}
}

// WithPathWildcard names the http.ServeMux wildcard that carries the
// company id (default DefaultWildcard, also for ""). WithoutPathWildcard
// reads none.
func WithPathWildcard(name string) DetectOption {
	return detectOpt{"WithPathWildcard", func(c *config) error {
		name = orDefault(name, DefaultWildcard)
		if !goIdentifier(name) {
			return fmt.Errorf("%q is no ServeMux wildcard name", name)
		}
		c.wildcard = name
		return nil
	}}
}

// WithoutPathWildcard makes DetectCompany read no ServeMux wildcard.
func WithoutPathWildcard() DetectOption {
	return detectOpt{"WithoutPathWildcard", func(c *config) error { c.wildcard = ""; return nil }}
}

// WithPathSegment names the path segment followed by the company id, as
// "companies" in /rest/v1.0/companies/{id}/projects (default
// DefaultSegment, also for ""). It is read when the wildcard is not set.
// WithoutPathSegment reads none.
func WithPathSegment(name string) DetectOption {
	return detectOpt{"WithPathSegment", func(c *config) error {
		name = orDefault(name, DefaultSegment)
		if !portableID(name) {
			return fmt.Errorf("%q is no plain path segment", name)
		}
		c.segment = name
		return nil
	}}
}

// WithoutPathSegment makes DetectCompany read the company from no path
// segment (a ServeMux wildcard still counts).
func WithoutPathSegment() DetectOption {
	return detectOpt{"WithoutPathSegment", func(c *config) error { c.segment = ""; return nil }}
}

// WithQueryParam names the query parameter that carries the company id
// (default DefaultQueryParam, also for ""). The query is read, never
// logged. WithoutQueryParam reads none.
func WithQueryParam(name string) DetectOption {
	return detectOpt{"WithQueryParam", func(c *config) error {
		name = orDefault(name, DefaultQueryParam)
		if !portableID(name) {
			return fmt.Errorf("%q is no plain query parameter name", name)
		}
		c.query = name
		return nil
	}}
}

// WithoutQueryParam makes DetectCompany read the company from no query
// parameter.
func WithoutQueryParam() DetectOption {
	return detectOpt{"WithoutQueryParam", func(c *config) error { c.query = ""; return nil }}
}

// WithCompanyValidator replaces ValidCompanyID (the default, also for nil)
// as the check of a company id, for tenants named by UUIDs, slugs or
// anything else. Whatever it accepts, an id is also held to what every hop
// can carry unchanged in a path segment, a header and a log line: 1 to 128
// bytes of letters, digits, '-', '_', '.' and '~', and neither "." nor
// "..".
func WithCompanyValidator(valid func(id string) bool) CompanyValidatorOption {
	return CompanyValidatorOption{option{"WithCompanyValidator", func(c *config) error {
		if valid == nil {
			valid = ValidCompanyID
		}
		c.validate = valid
		return nil
	}}}
}

// WithOptional lets a request without a company through DetectCompany and
// Resolve, which then add nothing to its context. A malformed or
// conflicting company is still refused. By default a company is required.
func WithOptional() OptionalOption {
	return OptionalOption{option{"WithOptional", func(c *config) error { c.optional = true; return nil }}}
}

// WithClock sets the clock that a CachingDirectory checks every expiry
// against, for tests. The default (also for nil) is time.Now.
func WithClock(now func() time.Time) CacheOption {
	return cacheOpt{"WithClock", func(c *config) error {
		if now != nil {
			c.now = now
		}
		return nil
	}}
}

// WithLogger sets the logger of the Router. The default (also for nil) is
// slog.Default() at the time of logging.
func WithLogger(l *slog.Logger) RouterOption {
	return routerOpt{"WithLogger", func(c *config) error { c.logger = l; return nil }}
}

// WithTransport sets the RoundTripper of the HTTP directory, for example
// an hmacsig signing transport. The default (also for nil) is
// edge.NewTransport; either way the request ID is propagated through
// edge.Outbound.
func WithTransport(rt http.RoundTripper) HTTPDirectoryOption {
	return httpDirOpt{"WithTransport", func(c *config) error { c.transport = rt; return nil }}
}

// WithTTL sets how long a cached zone is fresh (default 5 min, also for
// zero; negative is an error).
func WithTTL(d time.Duration) CacheOption {
	return cacheOpt{"WithTTL", duration(d, defaultTTL, func(c *config, d time.Duration) { c.ttl = d })}
}

// WithStaleWhileRevalidate sets how long after its TTL a cached zone is
// still served while one background refresh runs (default 1 min, also for
// zero; negative is an error). WithoutStaleWhileRevalidate serves none.
func WithStaleWhileRevalidate(d time.Duration) CacheOption {
	return cacheOpt{"WithStaleWhileRevalidate", duration(d, defaultSWR, func(c *config, d time.Duration) { c.swr = d })}
}

// WithoutStaleWhileRevalidate serves a zone past its TTL only within
// WithStaleIfError; with WithoutStaleIfError too, a lookup of a zone past
// its TTL waits for the directory.
func WithoutStaleWhileRevalidate() CacheOption {
	return cacheOpt{"WithoutStaleWhileRevalidate", func(c *config) error { c.swr = 0; return nil }}
}

// WithStaleIfError sets the hard maximum age of a cached zone served when
// the directory fails (default 1 h, also for zero; negative is an error).
// WithoutStaleIfError serves none.
func WithStaleIfError(maxAge time.Duration) CacheOption {
	return cacheOpt{"WithStaleIfError", duration(maxAge, defaultMaxStale, func(c *config, d time.Duration) { c.maxStale = d })}
}

// WithoutStaleIfError serves no zone past its TTL and
// stale-while-revalidate window: such a lookup waits for the directory,
// and fails when the directory does.
func WithoutStaleIfError() CacheOption {
	return cacheOpt{"WithoutStaleIfError", func(c *config) error { c.maxStale = 0; return nil }}
}

// WithNegativeTTL sets how long an unknown company is remembered as
// unknown (default 30 s, also for zero; negative is an error).
// WithoutNegativeCaching remembers none.
func WithNegativeTTL(d time.Duration) CacheOption {
	return cacheOpt{"WithNegativeTTL", duration(d, defaultNegTTL, func(c *config, d time.Duration) { c.negTTL = d })}
}

// WithoutNegativeCaching makes every lookup of an unknown company ask the
// directory. Concurrent lookups of one company still share one call.
func WithoutNegativeCaching() CacheOption {
	return cacheOpt{"WithoutNegativeCaching", func(c *config) error { c.negTTL = 0; return nil }}
}

// WithCacheSize bounds the number of cached zones (default 100,000, also
// for zero; negative is an error).
func WithCacheSize(n int) CacheOption {
	return cacheOpt{"WithCacheSize", optcheck.Set(n, optcheck.NotNegative, func(c *config, n int) { c.size = orDefault(n, defaultCacheSize) })}
}

// WithNegativeCacheSize bounds the number of remembered unknown companies
// (default 10,000, also for zero; negative is an error), apart from the
// zones so that a scan of random ids cannot evict real entries.
func WithNegativeCacheSize(n int) CacheOption {
	return cacheOpt{"WithNegativeCacheSize", optcheck.Set(n, optcheck.NotNegative, func(c *config, n int) { c.negSize = orDefault(n, defaultNegSize) })}
}

// WithLookupTimeout bounds one upstream directory call (default 5 s, also
// for zero; negative is an error). The call runs on its own context, so a
// caller that gives up does not cancel it for the others waiting on it.
func WithLookupTimeout(d time.Duration) CacheOption {
	return cacheOpt{"WithLookupTimeout", duration(d, defaultLookupTimeout, func(c *config, d time.Duration) { c.lookupTimeout = d })}
}

// WithRetryBackoff sets how long a CachingDirectory waits, after a
// background refresh of a company failed, before it starts another
// (default 5 s, also for zero; negative is an error): meanwhile the stale
// zone is served at once, so a hung directory holds one call at a time,
// not every request.
func WithRetryBackoff(d time.Duration) CacheOption {
	return cacheOpt{"WithRetryBackoff", duration(d, defaultRetryBackoff, func(c *config, d time.Duration) { c.retryBackoff = d })}
}

// WithMaxResponseBytes bounds the body of a directory answer (default 16
// KiB, also for zero; negative is an error).
func WithMaxResponseBytes(n int64) HTTPDirectoryOption {
	return httpDirOpt{"WithMaxResponseBytes", optcheck.Set(n, optcheck.NotNegative, func(c *config, n int64) { c.maxBody = orDefault(n, defaultMaxBody) })}
}

// WithRetryAfter sets the Retry-After of zone_directory_unavailable
// (default 5 s, also for zero; negative is an error). Sub-second values
// are rounded up to a second.
func WithRetryAfter(d time.Duration) RetryAfterOption {
	return RetryAfterOption{option{"WithRetryAfter", duration(d, defaultRetryAfter, func(c *config, d time.Duration) { c.retryAfter = d })}}
}

// WithResponseMaxAge sets how long a client may keep NewBaseURLHandler's
// answer (Cache-Control: private, max-age; default 60 s, also for zero;
// negative is an error). WithoutResponseCaching sends no-store instead.
func WithResponseMaxAge(d time.Duration) BaseURLOption {
	return baseURLOpt{"WithResponseMaxAge", duration(d, defaultMaxAge, func(c *config, d time.Duration) { c.maxAge = d })}
}

// WithoutResponseCaching makes NewBaseURLHandler answer with
// Cache-Control: no-store.
func WithoutResponseCaching() BaseURLOption {
	return baseURLOpt{"WithoutResponseCaching", func(c *config) error { c.maxAge = 0; return nil }}
}

// WithCanary sends a stable share of zone's companies to an alternate
// gateway (see Canary), one canary per zone. By default no zone has one.
func WithCanary(zone string, cn Canary) RouterOption {
	return routerOpt{"WithCanary", func(c *config) error {
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

// WithFlagEvaluator sets what evaluates the flags of canaries
// (Canary.Flag), such as featureflag.Evaluator(client) for OpenFeature. By
// default (also for nil) there is none, and a canary with a Flag is an
// error.
func WithFlagEvaluator(flags FlagFunc) RouterOption {
	return routerOpt{"WithFlagEvaluator", func(c *config) error { c.flags = flags; return nil }}
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
