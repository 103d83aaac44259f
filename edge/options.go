package edge

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/cellgate/cellgate/internal/optcheck"
)

// Option configures a constructor of this package. Each constructor reads
// only some options; one it does not read is an error at construction that
// names both (for example "edge: ProxyTo does not take option WithCSP"), as
// is an invalid value. Constructors that return an error report it;
// middleware constructors that return only a middleware ([RequestID],
// [AccessLog], [Recover], [StripInternal], [SecurityHeaders], [TLSFloor])
// panic at construction, never at request time, like regexp.MustCompile:
// options are written in code, so a wrong one is a programming error that
// the first run of the program reports.
type Option struct {
	name  string
	apply func(*config) error
}

// Name returns the option's name, such as "WithLogger".
func (o Option) Name() string { return o.name }

func (o Option) parts() (string, func(*config) error) { return o.name, o.apply }

// config holds every knob of the package; newConfig is the one place where
// defaults live. The zero configuration is the safe one: nothing inbound is
// trusted.
type config struct {
	logger     *slog.Logger
	service    string
	trust      Trust
	transport  http.RoundTripper
	prefix     string
	strip      []string
	keep       []string
	csp        string
	hsts       time.Duration
	referrer   string
	tlsHeader  string
	flush      time.Duration
	checkLimit time.Duration

	headerTimeout time.Duration
	websocket     func(*http.Request) bool // nil: no route switches protocols
}

// DefaultInternalPrefix is the prefix shared by every header that the edge
// sets for the next hop, such as Cellgate-Company-Id and Cellgate-Zone.
const DefaultInternalPrefix = "Cellgate-"

// DefaultCSP is the Content-Security-Policy of [SecurityHeaders] when none is
// configured. {nonce} is replaced by a fresh nonce on every request.
const DefaultCSP = "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// newConfig applies opts over the defaults for the constructor ctor
// ("ProxyTo"), which reads only the options named in reads.
func newConfig(ctor string, opts []Option, reads ...string) (*config, error) {
	c := &config{
		trust:      TrustNone,
		prefix:     DefaultInternalPrefix,
		csp:        DefaultCSP,
		hsts:       365 * 24 * time.Hour,
		referrer:   "strict-origin-when-cross-origin",
		checkLimit: 2 * time.Second,

		headerTimeout: DefaultResponseHeaderTimeout,
	}
	if err := optcheck.Apply(c, "edge", ctor, opts, reads, Option.parts); err != nil {
		return nil, err
	}
	return c, nil
}

// mustConfig is newConfig for the middleware constructors that return no
// error: a bad option panics at construction.
func mustConfig(ctor string, opts []Option, reads ...string) *config {
	c, err := newConfig(ctor, opts, reads...)
	if err != nil {
		panic(err)
	}
	return c
}

func (c *config) log() *slog.Logger {
	if c.logger != nil {
		return c.logger
	}
	return slog.Default()
}

// WithLogger sets the logger of [AccessLog], [Recover], [NewHealth] and
// [NewProxy]. The default (or nil) is slog.Default() at the time of
// logging.
func WithLogger(l *slog.Logger) Option {
	return Option{"WithLogger", func(c *config) error {
		c.logger = l
		return nil
	}}
}

// WithTrust sets which inbound requests come from a trusted hop: their
// request ID, internal headers, forwarding chain and TLS header are
// believed. Read by [RequestID], [StripInternal], [TLSFloor] and [NewProxy].
// The default (or nil), [TrustNone], trusts nothing.
func WithTrust(t Trust) Option {
	return Option{"WithTrust", func(c *config) error {
		if t == nil {
			t = TrustNone
		}
		c.trust = t
		return nil
	}}
}

// WithTransport sets the RoundTripper of [NewProxy]. The default (or nil)
// is a new [NewTransport]. A RoundTripper that is, or unwraps to (through
// an Unwrap() http.RoundTripper method), an *http.Transport whose
// ResponseHeaderTimeout is already within [WithResponseHeaderTimeout]'s
// bounds the wait itself; any other gets a timer per request.
func WithTransport(rt http.RoundTripper) Option {
	return Option{"WithTransport", func(c *config) error {
		c.transport = rt
		return nil
	}}
}

// WithInternalPrefix replaces [DefaultInternalPrefix] for [StripInternal].
// The empty prefix strips only the headers named by [WithStripHeaders]; any
// other prefix must be a valid header name.
func WithInternalPrefix(prefix string) Option {
	return Option{"WithInternalPrefix", func(c *config) error {
		if prefix != "" && !ValidHeaderName(prefix) {
			return fmt.Errorf("invalid header name prefix %q", prefix)
		}
		c.prefix = prefix
		return nil
	}}
}

// WithStripHeaders adds header names that [StripInternal] deletes from
// untrusted requests besides the internal prefix, such as the passport header
// when it is not Authorization. By default none is added; each name must be
// a valid header name.
func WithStripHeaders(names ...string) Option {
	return Option{"WithStripHeaders", func(c *config) error {
		for _, n := range names {
			if !ValidHeaderName(n) {
				return fmt.Errorf("invalid header name %q", n)
			}
		}
		c.strip = append(c.strip, names...)
		return nil
	}}
}

// WithCSP sets the Content-Security-Policy of [SecurityHeaders]; every
// {nonce} in it is replaced by a per-request nonce (see [CSPNonceFromContext]).
// The default is [DefaultCSP]; an empty policy sends no CSP header; a policy
// with a control character is an error.
func WithCSP(policy string) Option {
	return Option{"WithCSP", func(c *config) error {
		if !validHeaderValue(policy) {
			return errors.New("policy holds a control character")
		}
		c.csp = policy
		return nil
	}}
}

// WithHSTS sets the max-age of Strict-Transport-Security sent by
// [SecurityHeaders]; zero sends none, a negative age is an error. The
// default is one year.
func WithHSTS(maxAge time.Duration) Option {
	return Option{"WithHSTS", func(c *config) error {
		if maxAge < 0 {
			return fmt.Errorf("negative max-age %v", maxAge)
		}
		c.hsts = maxAge
		return nil
	}}
}

// referrerPolicies are the values of the Referrer-Policy header.
var referrerPolicies = []string{
	"no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
	"same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url",
}

// WithReferrerPolicy sets the Referrer-Policy of [SecurityHeaders]. The
// default is strict-origin-when-cross-origin; the empty policy sends none;
// a value the Referrer Policy specification does not define is an error.
func WithReferrerPolicy(p string) Option {
	return Option{"WithReferrerPolicy", func(c *config) error {
		if p != "" && !slices.Contains(referrerPolicies, p) {
			return fmt.Errorf("unknown referrer policy %q", p)
		}
		c.referrer = p
		return nil
	}}
}

// WithTLSHeader names a header that a trusted TLS-terminating proxy sets to
// the client's TLS version ("TLSv1.2", "1.2"), read by [TLSFloor] when the
// request itself arrived without TLS. By default no header is read; the
// name must be a valid header name.
func WithTLSHeader(name string) Option {
	return Option{"WithTLSHeader", func(c *config) error {
		if !ValidHeaderName(name) {
			return fmt.Errorf("invalid header name %q", name)
		}
		c.tlsHeader = name
		return nil
	}}
}

// WithFlushInterval sets how often [NewProxy] flushes a response to the
// client, as httputil.ReverseProxy.FlushInterval: zero flushes only as the
// buffer fills, a negative interval after every write. The default is zero.
// Whatever the interval, a response without a Content-Length (chunked,
// streamed) or of type text/event-stream is flushed after every write, as
// httputil does, so streaming needs no option. Flushing costs a timer and
// a goroutine per response (streams pay it whatever the interval), and a
// negative interval flushes the headers at once, in a write before the
// body's.
func WithFlushInterval(d time.Duration) Option {
	return Option{"WithFlushInterval", func(c *config) error {
		c.flush = d
		return nil
	}}
}

// WithCheckTimeout sets the timeout of a readiness check of [NewHealth] that
// does not name its own. The default is 2 s; zero or less is an error.
func WithCheckTimeout(d time.Duration) Option {
	return Option{"WithCheckTimeout", func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("timeout %v must be positive", d)
		}
		c.checkLimit = d
		return nil
	}}
}

// validHeaderValue reports whether v holds no control character but tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
