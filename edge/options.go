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

// Options
//
// Each constructor of this package takes its own option type (AccessLog an
// [AccessLogOption], NewProxy and ProxyTo a [ProxyOption], and so on), so an
// option given to a constructor that does not read it is a compile error.
// An option that several constructors read returns a named type that is an
// option of each of them ([LoggerOption], [TrustOption],
// [BodyIdleTimeoutOption]). Zero means the default in every option; a
// feature that is on by default is turned off by an option of its own
// (WithoutCSP, WithoutHSTS). An invalid value, a nil option or the zero
// value of an option type is an error at construction that names the
// constructor and the option.

// option is one option: its name, for errors, and what it does to the
// config.
type option struct {
	name  string
	apply func(*config) error
}

// AccessLogOption configures [AccessLog].
type AccessLogOption interface{ accessLogOption() option }

// RecoverOption configures [Recover].
type RecoverOption interface{ recoverOption() option }

// RequestIDOption configures [RequestID].
type RequestIDOption interface{ requestIDOption() option }

// SecurityHeadersOption configures [SecurityHeaders].
type SecurityHeadersOption interface{ securityHeadersOption() option }

// StripInternalOption configures [StripInternal].
type StripInternalOption interface{ stripInternalOption() option }

// TLSFloorOption configures [TLSFloor].
type TLSFloorOption interface{ tlsFloorOption() option }

// BodyIdleOption configures [BodyIdle].
type BodyIdleOption interface{ bodyIdleOption() option }

// HealthOption configures [NewHealth].
type HealthOption interface{ healthOption() option }

// ProxyOption configures [NewProxy] and [ProxyTo], which read the same
// options.
type ProxyOption interface{ proxyOption() option }

// The concrete option types of the options one constructor reads.
type (
	accessLogOpt       option
	securityHeadersOpt option
	stripInternalOpt   option
	tlsFloorOpt        option
	healthOpt          option
	proxyOpt           option
)

func (o accessLogOpt) accessLogOption() option             { return option(o) }
func (o securityHeadersOpt) securityHeadersOption() option { return option(o) }
func (o stripInternalOpt) stripInternalOption() option     { return option(o) }
func (o tlsFloorOpt) tlsFloorOption() option               { return option(o) }
func (o healthOpt) healthOption() option                   { return option(o) }
func (o proxyOpt) proxyOption() option                     { return option(o) }

// LoggerOption is [WithLogger]: an option of [AccessLog], [Recover],
// [NewHealth], [NewProxy], [ProxyTo] and [NewServer].
type LoggerOption struct{ o option }

func (o LoggerOption) accessLogOption() option { return o.o }
func (o LoggerOption) recoverOption() option   { return o.o }
func (o LoggerOption) healthOption() option    { return o.o }
func (o LoggerOption) proxyOption() option     { return o.o }
func (o LoggerOption) serverOption() option    { return o.o }

// TrustOption is [WithTrust]: an option of [RequestID], [StripInternal],
// [TLSFloor], [NewProxy] and [ProxyTo].
type TrustOption struct{ o option }

func (o TrustOption) requestIDOption() option     { return o.o }
func (o TrustOption) stripInternalOption() option { return o.o }
func (o TrustOption) tlsFloorOption() option      { return o.o }
func (o TrustOption) proxyOption() option         { return o.o }

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
	forwarded  Trust // StripInternal keeps X-Forwarded-For from these hops; nil: none
	csp        string
	hsts       time.Duration
	referrer   string
	tlsHeader  string
	flush      time.Duration
	checkLimit time.Duration
	bodyIdle   time.Duration
	server     serverConfig

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

// DefaultHSTS is the max-age of the Strict-Transport-Security header of
// [SecurityHeaders]: one year.
const DefaultHSTS = 365 * 24 * time.Hour

// DefaultReferrerPolicy is the Referrer-Policy of [SecurityHeaders].
const DefaultReferrerPolicy = "strict-origin-when-cross-origin"

// DefaultCheckTimeout bounds a readiness check of [NewHealth] that names no
// timeout of its own.
const DefaultCheckTimeout = 2 * time.Second

// newConfig applies opts, taken apart by get, over the defaults for the
// constructor ctor ("ProxyTo").
func newConfig[O any](ctor string, opts []O, get func(O) option) (*config, error) {
	c := &config{
		trust:      TrustNone,
		prefix:     DefaultInternalPrefix,
		csp:        DefaultCSP,
		hsts:       DefaultHSTS,
		referrer:   DefaultReferrerPolicy,
		checkLimit: DefaultCheckTimeout,
		bodyIdle:   DefaultBodyIdle,
		server:     defaultServerConfig(),

		headerTimeout: DefaultResponseHeaderTimeout,
	}
	parts := func(o O) (string, func(*config) error) {
		if any(o) == nil {
			return "", nil // a nil option: refused as the zero one is
		}
		op := get(o)
		return op.name, op.apply
	}
	if err := optcheck.Apply(c, "edge", ctor, opts, parts); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *config) log() *slog.Logger {
	if c.logger != nil {
		return c.logger
	}
	return slog.Default()
}

// WithLogger sets the logger of [AccessLog], [Recover], [NewHealth],
// [NewProxy], [ProxyTo] and [NewServer]. The default (or nil) is
// slog.Default() at the time of logging.
func WithLogger(l *slog.Logger) LoggerOption {
	return LoggerOption{option{"WithLogger", func(c *config) error {
		c.logger = l
		return nil
	}}}
}

// WithTrust sets which inbound requests come from a trusted hop: their
// request ID, internal headers, forwarding chain and TLS header are
// believed. Read by [RequestID], [StripInternal], [TLSFloor], [NewProxy]
// and [ProxyTo]. The default (or nil), [TrustNone], trusts nothing.
func WithTrust(t Trust) TrustOption {
	return TrustOption{option{"WithTrust", func(c *config) error {
		if t == nil {
			t = TrustNone
		}
		c.trust = t
		return nil
	}}}
}

// WithTransport sets the RoundTripper of [NewProxy] and [ProxyTo]. The
// default (or nil) is a new [NewTransport]. A RoundTripper that is, or
// unwraps to (through an Unwrap() http.RoundTripper method), an
// *http.Transport whose ResponseHeaderTimeout is already within
// [WithResponseHeaderTimeout]'s bounds the wait itself; any other gets a
// timer per request.
func WithTransport(rt http.RoundTripper) ProxyOption {
	return proxyOpt{"WithTransport", func(c *config) error {
		c.transport = rt
		return nil
	}}
}

// WithInternalPrefix replaces [DefaultInternalPrefix] for [StripInternal].
// The default (or "") is [DefaultInternalPrefix]; any other prefix must be
// a valid header name. [WithoutInternalPrefix] strips no prefix at all.
func WithInternalPrefix(prefix string) StripInternalOption {
	return stripInternalOpt{"WithInternalPrefix", func(c *config) error {
		switch {
		case prefix == "":
			prefix = DefaultInternalPrefix
		case !ValidHeaderName(prefix):
			return fmt.Errorf("invalid header name prefix %q", prefix)
		}
		c.prefix = prefix
		return nil
	}}
}

// WithoutInternalPrefix makes [StripInternal] strip no header by its
// prefix: only the headers named by [WithStripHeaders], and the forwarding
// and rewrite headers it always governs. For a deployment whose internal
// headers share no prefix.
func WithoutInternalPrefix() StripInternalOption {
	return stripInternalOpt{"WithoutInternalPrefix", func(c *config) error {
		c.prefix = ""
		return nil
	}}
}

// WithStripHeaders adds header names that [StripInternal] deletes from
// untrusted requests besides the internal prefix, such as the passport header
// when it is not Authorization. By default none is added; each name must be
// a valid header name.
func WithStripHeaders(names ...string) StripInternalOption {
	return stripInternalOpt{"WithStripHeaders", func(c *config) error {
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
// The default (or "") is [DefaultCSP]; a policy with a control character is
// an error. [WithoutCSP] sends none.
func WithCSP(policy string) SecurityHeadersOption {
	return securityHeadersOpt{"WithCSP", func(c *config) error {
		if !validHeaderValue(policy) {
			return errors.New("policy holds a control character")
		}
		if policy == "" {
			policy = DefaultCSP
		}
		c.csp = policy
		return nil
	}}
}

// WithoutCSP makes [SecurityHeaders] send no Content-Security-Policy, for a
// service whose pages set their own.
func WithoutCSP() SecurityHeadersOption {
	return securityHeadersOpt{"WithoutCSP", func(c *config) error {
		c.csp = ""
		return nil
	}}
}

// WithHSTS sets the max-age of Strict-Transport-Security sent by
// [SecurityHeaders], in whole seconds. The default (or zero) is
// [DefaultHSTS], one year; a negative age is an error. [WithoutHSTS] sends
// none.
func WithHSTS(maxAge time.Duration) SecurityHeadersOption {
	return securityHeadersOpt{"WithHSTS", func(c *config) error {
		switch {
		case maxAge < 0:
			return fmt.Errorf("negative max-age %v", maxAge)
		case maxAge == 0:
			maxAge = DefaultHSTS
		}
		c.hsts = maxAge
		return nil
	}}
}

// WithoutHSTS makes [SecurityHeaders] send no Strict-Transport-Security,
// for a service reached over plain HTTP.
func WithoutHSTS() SecurityHeadersOption {
	return securityHeadersOpt{"WithoutHSTS", func(c *config) error {
		c.hsts = 0
		return nil
	}}
}

// referrerPolicies are the values of the Referrer-Policy header.
var referrerPolicies = []string{
	"no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
	"same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url",
}

// WithReferrerPolicy sets the Referrer-Policy of [SecurityHeaders]. The
// default (or "") is [DefaultReferrerPolicy]; a value the Referrer Policy
// specification does not define is an error. [WithoutReferrerPolicy] sends
// none.
func WithReferrerPolicy(p string) SecurityHeadersOption {
	return securityHeadersOpt{"WithReferrerPolicy", func(c *config) error {
		switch {
		case p == "":
			p = DefaultReferrerPolicy
		case !slices.Contains(referrerPolicies, p):
			return fmt.Errorf("unknown referrer policy %q", p)
		}
		c.referrer = p
		return nil
	}}
}

// WithoutReferrerPolicy makes [SecurityHeaders] send no Referrer-Policy:
// the browser's own default applies.
func WithoutReferrerPolicy() SecurityHeadersOption {
	return securityHeadersOpt{"WithoutReferrerPolicy", func(c *config) error {
		c.referrer = ""
		return nil
	}}
}

// WithTLSHeader names a header that a trusted TLS-terminating proxy sets to
// the client's TLS version ("TLSv1.2", "1.2"), read by [TLSFloor] when the
// request itself arrived without TLS. By default (or "") no header is read;
// a name must be a valid header name.
func WithTLSHeader(name string) TLSFloorOption {
	return tlsFloorOpt{"WithTLSHeader", func(c *config) error {
		if name != "" && !ValidHeaderName(name) {
			return fmt.Errorf("invalid header name %q", name)
		}
		c.tlsHeader = name
		return nil
	}}
}

// WithFlushInterval makes [NewProxy] and [ProxyTo] also flush a response to
// the client every d while it is copied. By default (or zero) a response is
// flushed as the copy buffer fills; a negative interval is an error. Whatever
// the interval, a response without a Content-Length (chunked, streamed) or
// of type text/event-stream is flushed after every write, as httputil does,
// so streaming needs no option. Flushing on an interval costs a timer and a
// goroutine per response. [WithFlushEveryWrite] flushes after every write.
func WithFlushInterval(d time.Duration) ProxyOption {
	return proxyOpt{"WithFlushInterval", func(c *config) error {
		if d < 0 {
			return fmt.Errorf("negative interval %v", d)
		}
		c.flush = d
		return nil
	}}
}

// WithFlushEveryWrite makes [NewProxy] and [ProxyTo] flush every response
// after every write, headers first in a write of their own
// (httputil.ReverseProxy's negative FlushInterval).
func WithFlushEveryWrite() ProxyOption {
	return proxyOpt{"WithFlushEveryWrite", func(c *config) error {
		c.flush = -1
		return nil
	}}
}

// WithCheckTimeout sets the timeout of a readiness check of [NewHealth] that
// does not name its own. The default (or zero) is [DefaultCheckTimeout],
// 2 s; a negative timeout is an error.
func WithCheckTimeout(d time.Duration) HealthOption {
	return healthOpt{"WithCheckTimeout", func(c *config) error {
		switch {
		case d < 0:
			return fmt.Errorf("negative timeout %v", d)
		case d == 0:
			d = DefaultCheckTimeout
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
