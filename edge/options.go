package edge

import (
	"log/slog"
	"net/http"
	"time"
)

// Option configures the constructors of this package. Each constructor reads
// the options that concern it and ignores the rest, so one option list can be
// shared by a whole chain.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config holds every knob of the package; newConfig is the one place where
// defaults live. The zero configuration is the safe one: nothing inbound is
// trusted.
type config struct {
	logger     *slog.Logger
	trust      Trust
	transport  http.RoundTripper
	prefix     string
	strip      []string
	csp        string
	hsts       time.Duration
	referrer   string
	tlsHeader  string
	flush      time.Duration
	checkLimit time.Duration
}

// DefaultInternalPrefix is the prefix shared by every header that the edge
// sets for the next hop, such as Cellgate-Company-Id and Cellgate-Zone.
const DefaultInternalPrefix = "Cellgate-"

// DefaultCSP is the Content-Security-Policy of [SecurityHeaders] when none is
// configured. {nonce} is replaced by a fresh nonce on every request.
const DefaultCSP = "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

func newConfig(opts []Option) *config {
	c := &config{
		trust:      TrustNone,
		prefix:     DefaultInternalPrefix,
		csp:        DefaultCSP,
		hsts:       365 * 24 * time.Hour,
		referrer:   "strict-origin-when-cross-origin",
		flush:      -1,
		checkLimit: 2 * time.Second,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

func (c *config) log() *slog.Logger {
	if c.logger != nil {
		return c.logger
	}
	return slog.Default()
}

// WithLogger sets the logger of [AccessLog], [Recover], [Health] and the
// proxy. The default is slog.Default() at the time of logging.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithTrust sets which inbound requests come from a trusted hop: their
// request ID, internal headers and TLS header are believed. The default
// trusts nothing.
func WithTrust(t Trust) Option {
	return optionFunc(func(c *config) {
		if t != nil {
			c.trust = t
		}
	})
}

// WithTransport sets the RoundTripper of the proxy. The default is
// [NewTransport].
func WithTransport(rt http.RoundTripper) Option {
	return optionFunc(func(c *config) { c.transport = rt })
}

// WithInternalPrefix replaces [DefaultInternalPrefix] for [StripInternal].
func WithInternalPrefix(prefix string) Option {
	return optionFunc(func(c *config) { c.prefix = prefix })
}

// WithStripHeaders adds header names that [StripInternal] deletes from
// untrusted requests besides the internal prefix, such as the passport header
// when it is not Authorization.
func WithStripHeaders(names ...string) Option {
	return optionFunc(func(c *config) { c.strip = append(c.strip, names...) })
}

// WithCSP sets the Content-Security-Policy of [SecurityHeaders]; every
// {nonce} in it is replaced by a per-request nonce (see [CSPNonceFromContext]).
// An empty policy sends no CSP header.
func WithCSP(policy string) Option {
	return optionFunc(func(c *config) { c.csp = policy })
}

// WithHSTS sets the max-age of Strict-Transport-Security sent by
// [SecurityHeaders]; zero or less sends none. The default is one year.
func WithHSTS(maxAge time.Duration) Option {
	return optionFunc(func(c *config) { c.hsts = maxAge })
}

// WithReferrerPolicy sets the Referrer-Policy of [SecurityHeaders].
func WithReferrerPolicy(p string) Option {
	return optionFunc(func(c *config) { c.referrer = p })
}

// WithTLSHeader names a header that a trusted TLS-terminating proxy sets to
// the client's TLS version ("TLSv1.2", "1.2"), read by [TLSFloor] when the
// request itself arrived without TLS.
func WithTLSHeader(name string) Option {
	return optionFunc(func(c *config) { c.tlsHeader = name })
}

// WithFlushInterval sets how often the proxy flushes a response to the
// client. The default, -1, flushes after every write, which streaming
// responses need.
func WithFlushInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.flush = d })
}

// WithCheckTimeout sets the default timeout of a readiness check that does
// not name its own. The default is 2 s.
func WithCheckTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.checkLimit = d
		}
	})
}
