package upload

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cellgate/cellgate/internal/optcheck"

	"go.opentelemetry.io/otel/trace"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
)

// option is one option: its name (for errors) and what it does to the
// config. Each constructor reads its own option type, so an option given to
// a constructor that does not read it (WithCORS to NewClient) does not
// compile; an invalid value, a nil option or the zero value of an option
// type is an error at construction naming the constructor and the option.
type option struct {
	name  string
	apply func(*config) error
}

// ClientOption configures [NewClient].
type ClientOption interface{ clientOption() option }

// ServiceOption configures [New], the whole upload service. Every
// [HandlerOption] is one: New builds its Handler with them.
type ServiceOption interface{ serviceOption() option }

// HandlerOption configures [NewHandler], and [New], which builds a Handler.
type HandlerOption interface {
	ServiceOption
	handlerOption() option
}

type (
	clientOpt  option // read by NewClient
	serviceOpt option // read by New
	handlerOpt option // read by NewHandler and New
)

func (o clientOpt) clientOption() option   { return option(o) }
func (o serviceOpt) serviceOption() option { return option(o) }
func (o handlerOpt) handlerOption() option { return option(o) }
func (o handlerOpt) serviceOption() option { return option(o) }

// TracerProviderOption is [WithTracerProvider], which [NewClient],
// [NewHandler] and [New] read.
type TracerProviderOption struct{ o option }

func (o TracerProviderOption) clientOption() option  { return o.o }
func (o TracerProviderOption) handlerOption() option { return o.o }
func (o TracerProviderOption) serviceOption() option { return o.o }

// CompanyIDRuleOption is [WithCompanyIDRule], which [NewClient],
// [NewHandler] and [New] read.
type CompanyIDRuleOption struct{ o option }

func (o CompanyIDRuleOption) clientOption() option  { return o.o }
func (o CompanyIDRuleOption) handlerOption() option { return o.o }
func (o CompanyIDRuleOption) serviceOption() option { return o.o }

// Defaults.
const (
	// DefaultMaxSize is the largest upload accepted: 5 GiB, the largest
	// single PUT that S3 takes (Azure's Put Blob stops just below, at
	// 5,000 MiB, and answers larger ones itself).
	DefaultMaxSize = 5 << 30
	// DefaultIdleTimeout is how long an upload may go without progress,
	// on the client's side or the storage's, before it is abandoned.
	DefaultIdleTimeout = time.Minute
	// DefaultMinRate is the slowest average, in bytes a second, at which a
	// client may send an upload once DefaultRateGrace has passed: 1 KiB/s,
	// 8 kbit/s, below any working mobile link (GPRS manages about 4 KiB/s),
	// and enough to make holding an upload cost the client bandwidth: a
	// thousand held uploads take a sustained 1 MiB/s.
	DefaultMinRate = 1 << 10
	// DefaultRateGrace is how long after the first read of the body the
	// rate floor waits before it applies, and how far ahead bytes sent
	// early count: a TCP slow start, a radio waking up or a short stall
	// never cuts an upload.
	DefaultRateGrace = 10 * time.Second
	// DefaultMaxDuration is the longest one upload's body may take: 4 hours.
	// An upload of DefaultMaxSize (5 GiB) in one PUT then needs about
	// 364 KiB/s (3 Mbit/s); slower clients send large files in parts (a
	// 100 MiB part takes 7 minutes at that rate, 28 hours at the floor).
	// The floor and the cap together bound how long a client holds an upload
	// and how little it must send meanwhile.
	DefaultMaxDuration = 4 * time.Hour
	// DefaultMaxUploads is how many uploads one Handler streams at once;
	// past it, 503 upload_capacity. Each upload in flight holds two
	// connections (the client's and storage's), three goroutines and about
	// 70 KiB of heap while its body is idle (a pooled 32 KiB copy buffer
	// that net/http's transport holds for the whole PUT among them): 2,048
	// uploads hold about 4,096 descriptors and 140 MiB at most.
	DefaultMaxUploads = 2048
	// DefaultMaxCompanyUploads is how many uploads of one company a Handler
	// streams at once; past it, 429 too_many_uploads. A company's users
	// uploading many parts in parallel stay under it; one client holding
	// uploads open cannot take more than an eighth of DefaultMaxUploads.
	DefaultMaxCompanyUploads = 256
	// DefaultFUSTimeout bounds one call to the file upload service.
	DefaultFUSTimeout = 10 * time.Second
	// MaxFUSResponse is the most the client reads of a file upload service
	// answer; anything longer is malformed.
	MaxFUSResponse = 64 << 10
)

// config holds every knob of the package; newConfig is the one place where
// defaults live.
type config struct {
	maxSize           int64
	idle              time.Duration
	storageRT         http.RoundTripper
	storageHosts      []string
	storageAddrs      []string
	storageHeaders    []string
	targetChecks      []TargetCheck
	fusRT             http.RoundTripper
	fusTimeout        time.Duration
	minRate           int64
	grace             time.Duration
	maxDuration       time.Duration
	maxUploads        int
	maxCompanyUploads int
	now               func() time.Time
	cors, flags       func(http.Handler) http.Handler
	provider          trace.TracerProvider
	detect            []zone.DetectOption
	resolve           []zone.ResolveOption
	logger            *slog.Logger
	trust             edge.Trust
	patternUpload     string
	patternPart       string
	validCompany      func(string) bool
	observer          Observer
}

// newConfig applies opts over the defaults for the constructor ctor
// ("NewClient"); get takes the option out of one of ctor's options.
func newConfig[O any](ctor string, opts []O, get func(O) option) (*config, error) {
	c := &config{
		maxSize:           DefaultMaxSize,
		idle:              DefaultIdleTimeout,
		fusTimeout:        DefaultFUSTimeout,
		minRate:           DefaultMinRate,
		grace:             DefaultRateGrace,
		maxDuration:       DefaultMaxDuration,
		maxUploads:        DefaultMaxUploads,
		maxCompanyUploads: DefaultMaxCompanyUploads,
		now:               time.Now,
		patternUpload:     PatternUpload,
		patternPart:       PatternPart,
		validCompany:      zone.ValidCompanyID,
	}
	parts := func(o O) (string, func(*config) error) {
		if any(o) == nil { // a nil option
			return "", nil
		}
		opt := get(o)
		return opt.name, opt.apply
	}
	if err := optcheck.Apply(c, "upload", ctor, opts, parts); err != nil {
		return nil, err
	}
	return c, nil
}

// orNewTransport returns rt, or a new edge.NewTransport() when it is nil:
// a transport is made only where it is used.
func orNewTransport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return edge.NewTransport()
	}
	return rt
}

// WithMaxSize sets the largest upload [NewHandler] accepts (Content-Length),
// answered 413 upload_too_large before any byte is read. The default
// (also for zero) is [DefaultMaxSize]; a negative size is an error.
func WithMaxSize(n int64) HandlerOption {
	return handlerOpt{"WithMaxSize", func(c *config) error {
		if n < 0 {
			return fmt.Errorf("max size %d is negative", n)
		}
		if n > 0 {
			c.maxSize = n
		}
		return nil
	}}
}

// WithIdleTimeout sets how long an upload may make no progress before
// [NewHandler] abandons it: a client that sends nothing is answered 408
// upload_timeout, a storage that reads nothing (or does not answer) 504
// storage_timeout. It is a sliding limit, so a slow but moving upload of any
// size completes. The default (also for zero) is [DefaultIdleTimeout]; a
// negative value is an error.
func WithIdleTimeout(d time.Duration) HandlerOption {
	return handlerOpt{"WithIdleTimeout", func(c *config) error {
		if d < 0 {
			return fmt.Errorf("idle timeout %v is negative", d)
		}
		if d > 0 {
			c.idle = d
		}
		return nil
	}}
}

// WithMinRate sets the rate floor of [NewHandler]: once grace has passed
// since the first read of an upload's body, the client must keep sending at
// an average of at least bytesPerSecond, or the upload is cut and answered
// 408 upload_too_slow. The average is kept as a credit of grace ×
// bytesPerSecond bytes that drains at bytesPerSecond after the grace period,
// while a read waits on the client (never while storage is slow to take
// bytes), and that every byte received refills, never above its size: bytes
// sent early count for at most grace ahead, so a client cannot bank a fast
// start and then trickle. This comes on top of the idle timeout (WithIdleTimeout),
// which bounds each wait for a byte as nginx's client_body_timeout does.
// Zero for either means its default, [DefaultMinRate] and
// [DefaultRateGrace]; a negative value is an error. [WithoutMinRate] turns
// the floor off.
func WithMinRate(bytesPerSecond int64, grace time.Duration) HandlerOption {
	return handlerOpt{"WithMinRate", func(c *config) error {
		if bytesPerSecond < 0 || grace < 0 {
			return fmt.Errorf("min rate %d bytes/s and grace %v must not be negative", bytesPerSecond, grace)
		}
		if bytesPerSecond > 0 {
			c.minRate = bytesPerSecond
		}
		if grace > 0 {
			c.grace = grace
		}
		return nil
	}}
}

// WithoutMinRate turns off the rate floor of [NewHandler] (see
// [WithMinRate]): a client may then send as slowly as the idle timeout and
// [WithMaxDuration] allow, holding its upload's connections meanwhile.
func WithoutMinRate() HandlerOption {
	return handlerOpt{"WithoutMinRate", func(c *config) error { c.minRate = -1; return nil }}
}

// WithMaxDuration sets the longest an upload's body may take in
// [NewHandler], from the first read to the last byte; a longer one is cut
// and answered 408 upload_duration_exceeded. It bounds how long a client
// that keeps up the rate floor holds an upload: an upload of size bytes
// needs an average of size / d, so with the default ([DefaultMaxDuration],
// 4 hours) a 5 GiB PUT needs about 364 KiB/s, and slower clients send large
// files in parts. Zero means the default; a negative value is an error.
func WithMaxDuration(d time.Duration) HandlerOption {
	return handlerOpt{"WithMaxDuration", func(c *config) error {
		if d < 0 {
			return fmt.Errorf("max duration %v must not be negative", d)
		}
		if d > 0 {
			c.maxDuration = d
		}
		return nil
	}}
}

// WithMaxUploads bounds the uploads [NewHandler] streams at once: total in
// all (past it, 503 upload_capacity) and perCompany for one company (past
// it, 429 too_many_uploads). One upload, or one part of it, is always
// streamed at most once at a time: a second PUT while the first is in
// flight is answered 429 upload_in_progress. Every refusal carries a
// Retry-After and comes before the file upload service is asked. Zero means
// the default ([DefaultMaxUploads], [DefaultMaxCompanyUploads]); a negative
// value, or perCompany above total, is an error; with perCompany zero, the
// default is lowered to total if need be. The bookkeeping holds one
// entry per company and per upload in flight, no more.
func WithMaxUploads(total, perCompany int) HandlerOption {
	return handlerOpt{"WithMaxUploads", func(c *config) error {
		if total < 0 || perCompany < 0 {
			return fmt.Errorf("max uploads %d and per company %d must not be negative", total, perCompany)
		}
		if total > 0 {
			c.maxUploads = total
		}
		if perCompany > 0 {
			c.maxCompanyUploads = perCompany
		}
		if perCompany == 0 {
			c.maxCompanyUploads = min(c.maxCompanyUploads, c.maxUploads)
		}
		if c.maxCompanyUploads > c.maxUploads {
			return fmt.Errorf("max uploads per company %d is above the total %d", c.maxCompanyUploads, c.maxUploads)
		}
		return nil
	}}
}

// WithClock sets the clock against which [NewHandler] checks the rate floor
// and the duration cap (tests move a fake one). The default (or nil) is
// time.Now. The idle timeouts run on the connection's deadlines and timers,
// in real time.
func WithClock(now func() time.Time) HandlerOption {
	return handlerOpt{"WithClock", func(c *config) error {
		if now != nil {
			c.now = now
		}
		return nil
	}}
}

// WithStorageTransport sets the RoundTripper of the PUTs of [NewHandler] to
// cloud storage. The default (or nil) is [NewStorageTransport] of the
// handler's Client: edge.NewTransport() dialling through
// [Client.DialContext], which refuses internal addresses that
// [WithStorageAddresses] does not list. A RoundTripper given here is used as
// it is: cellgate cannot see, or change, how it dials. Keep the address
// check by building it with NewStorageTransport, or by setting the
// DialContext of your *http.Transport to the Client's DialContext; a
// RoundTripper that dials some other way (or through a proxy) is not
// checked, and whatever it connects to receives the PUT. Every PUT gets a
// client span through tracing.Transport, which records the storage URL
// without its query: the presigned credential never reaches a span.
func WithStorageTransport(rt http.RoundTripper) HandlerOption {
	return handlerOpt{"WithStorageTransport", func(c *config) error { c.storageRT = rt; return nil }}
}

// WithStorageHosts names the storage that presigned URLs from the file
// upload service may point to; anything else is answered 502
// file_upload_service_unavailable and the PUT is never sent. [NewClient]
// requires it: there is no default, because the zero configuration must not
// let a file upload service send uploads (or the edge's requests) anywhere.
// Each entry is one of
//
//	bucket.s3.eu-west-1.amazonaws.com  https to exactly this host (port 443)
//	storage.googleapis.com:8443        https to this host and port
//	*.s3.amazonaws.com                 https to any name under the suffix, at any depth;
//	                                   never an IP literal, never the suffix itself
//	http://minio.internal:9000         plain http, to exactly this host and port
//	http://127.0.0.1:8086, [::1]:9443  an IP literal: only when listed exactly
//
// Names compare case-insensitively; a trailing dot, an empty port, user
// information, an IPv6 zone and numeric names such as "2130706433" never
// match. IP literals, including loopback, link-local (169.254.169.254) and
// private addresses, match only an entry naming that address. A wildcard
// admits every bucket or account under its suffix, other tenants' too:
// list exact hosts where you can. Calls add to the list; a malformed entry
// is an error.
func WithStorageHosts(hosts ...string) ClientOption {
	return clientOpt{"WithStorageHosts", func(c *config) error {
		for _, h := range hosts {
			if _, err := parseStorageHost(h); err != nil {
				return fmt.Errorf("storage host %q: %w", h, err)
			}
		}
		c.storageHosts = append(c.storageHosts, hosts...)
		return nil
	}}
}

// WithStorageAddresses lists the addresses, beyond public ones, that the
// storage hosts of [NewClient] may resolve to, as IP addresses ("10.1.2.3",
// "fd00::5") or prefixes in CIDR notation ("10.0.0.0/8", "fd00::/8"). The
// storage transport checks the address it connects to, after resolution
// (see [Client.DialContext]): loopback, private (10/8, 172.16/12,
// 192.168/16, fc00::/7), shared (100.64/10), link-local (169.254/16, where
// 169.254.169.254 serves cloud credentials, and fe80::/10), unspecified,
// multicast, documentation and other reserved ranges are refused unless
// listed here, so an allowed name that resolves or rebinds to an internal
// address gets no connection: the upload is answered 502
// storage_target_refused. An IP literal of [WithStorageHosts] is listed
// already. By default nothing is listed: a MinIO at
// "http://minio.internal:9000" on 10.0.3.7 needs "10.0.3.7" (or its subnet)
// here. Calls add to the list; a malformed entry is an error.
func WithStorageAddresses(addresses ...string) ClientOption {
	return clientOpt{"WithStorageAddresses", func(c *config) error {
		for _, a := range addresses {
			if _, err := parseStorageAddress(a); err != nil {
				return fmt.Errorf("storage address %q: %w", a, err)
			}
		}
		c.storageAddrs = append(c.storageAddrs, addresses...)
		return nil
	}}
}

// WithStorageHeaders allows more headers in a file upload service's answer
// to [NewClient], as header names ("x-custom-checksum") or "prefix*"
// patterns. By default the answer may name what S3, Azure and GCS presigns
// cover: Content-Type, Content-MD5, Content-Encoding, Content-Disposition,
// Content-Language, Cache-Control and x-amz-*, x-ms-*, x-goog-*, except
// X-Amz-Security-Token (a presign carries its session token in the query)
// and the x-amz-/x-ms-/x-goog-copy-source* headers (a server-side copy of
// another object); name them here to allow them. An answer naming any other
// header is answered 502 file_upload_service_unavailable. Authorization,
// Cookie, Cookie2, Set-Cookie, Proxy-*, Host, Connection, Keep-Alive,
// Transfer-Encoding, TE, Trailer, Upgrade, Content-Length and Expect are
// never sent, in any spelling ('_' read as '-'); naming one here, or a name
// that is not a header name, is an error.
func WithStorageHeaders(names ...string) ClientOption {
	return clientOpt{"WithStorageHeaders", func(c *config) error {
		if _, err := parseStorageHeaders(names); err != nil {
			return err
		}
		c.storageHeaders = append(c.storageHeaders, names...)
		return nil
	}}
}

// WithFUSTransport sets the RoundTripper under the signing transport of
// [NewClient]: edge.NewTransport() by default (or nil), edge.Binding(fus)
// for a service in the same process.
func WithFUSTransport(rt http.RoundTripper) ClientOption {
	return clientOpt{"WithFUSTransport", func(c *config) error { c.fusRT = rt; return nil }}
}

// WithFUSTimeout bounds one call of [NewClient] to the file upload service;
// a call that takes longer is answered 502 file_upload_service_unavailable.
// The default (also for zero) is [DefaultFUSTimeout]; a negative value is
// an error.
func WithFUSTimeout(d time.Duration) ClientOption {
	return clientOpt{"WithFUSTimeout", func(c *config) error {
		if d < 0 {
			return fmt.Errorf("FUS timeout %v is negative", d)
		}
		if d > 0 {
			c.fusTimeout = d
		}
		return nil
	}}
}

// WithTracerProvider sets the provider of the spans of [New]'s root, the
// storage PUTs of [NewHandler] and the calls of [NewClient]. The default (or
// nil) is the global provider.
func WithTracerProvider(tp trace.TracerProvider) TracerProviderOption {
	return TracerProviderOption{option{"WithTracerProvider", func(c *config) error { c.provider = tp; return nil }}}
}

// WithCompanyIDRule replaces the rule that company ids in upload paths
// must follow, read by [NewHandler] (through [ParseParams]) and [NewClient]
// (which applies it again before calling the file upload service). The
// default (also for nil) is zone.ValidCompanyID: 1 to 19 digits, no sign,
// no leading zero. Whatever the rule, "", "." and ".." are refused. The
// company detection of [New] (see [WithDetectCompany]) has its own rule.
func WithCompanyIDRule(valid func(id string) bool) CompanyIDRuleOption {
	return CompanyIDRuleOption{option{"WithCompanyIDRule", func(c *config) error {
		if valid != nil {
			c.validCompany = valid
		}
		return nil
	}}}
}

// WithCORS puts a CORS middleware (for example rs/cors's Handler) in the
// chain of [New], before signature verification, so preflight requests are
// answered without a signature. By default (or nil) there is none.
func WithCORS(mw func(http.Handler) http.Handler) ServiceOption {
	return serviceOpt{"WithCORS", func(c *config) error { c.cors = mw; return nil }}
}

// WithFlagsMiddleware puts a feature-flag middleware in the chain of
// [New], right after the root span, so flags are evaluated before any other
// stage answers. By default (also for nil) there is none.
func WithFlagsMiddleware(mw func(http.Handler) http.Handler) ServiceOption {
	return serviceOpt{"WithFlagsMiddleware", func(c *config) error { c.flags = mw; return nil }}
}

// WithDetectCompany passes options to zone.DetectCompany in the chain of
// [New] (zone.WithTrust, zone.WithCompanyHeader, ...). By default it gets
// none.
func WithDetectCompany(opts ...zone.DetectOption) ServiceOption {
	return serviceOpt{"WithDetectCompany", func(c *config) error { c.detect = append(c.detect, opts...); return nil }}
}

// WithResolve passes options to zone.Resolve in the chain of [New]. By
// default it gets none.
func WithResolve(opts ...zone.ResolveOption) ServiceOption {
	return serviceOpt{"WithResolve", func(c *config) error { c.resolve = append(c.resolve, opts...); return nil }}
}

// WithLogger sets the logger of the access log, panic recovery and health
// handler of [New]. The default (or nil) is slog.Default().
func WithLogger(l *slog.Logger) ServiceOption {
	return serviceOpt{"WithLogger", func(c *config) error { c.logger = l; return nil }}
}

// WithRequestIDTrust sets which hops in front of [New] are trusted to send
// a request ID (edge.RequestID). The default (or nil) trusts only edge
// bindings. Which hops may name the company is zone's option, passed with
// [WithDetectCompany].
func WithRequestIDTrust(t edge.Trust) ServiceOption {
	return serviceOpt{"WithRequestIDTrust", func(c *config) error { c.trust = t; return nil }}
}

// WithPatterns replaces the http.ServeMux patterns on which [New] serves
// standard uploads ([PatternUpload]) and parts of segmented uploads
// ([PatternPart]). Both must be valid patterns with the method PUT; upload
// must hold the wildcards {companyId}, {projectId} and {uploadId}, and part
// those and {partNumber}, each once: the wildcards [ParseParams] reads.
// The defaults (each also for "") are [PatternUpload] and [PatternPart].
func WithPatterns(upload, part string) ServiceOption {
	return serviceOpt{"WithPatterns", func(c *config) error {
		if upload == "" {
			upload = PatternUpload
		}
		if part == "" {
			part = PatternPart
		}
		if err := checkPattern(upload, false); err != nil {
			return fmt.Errorf("upload pattern %q: %w", upload, err)
		}
		if err := checkPattern(part, true); err != nil {
			return fmt.Errorf("part pattern %q: %w", part, err)
		}
		if upload == part {
			return errors.New("the upload and part patterns are the same")
		}
		c.patternUpload, c.patternPart = upload, part
		return nil
	}}
}

// checkPattern checks a pattern of WithPatterns.
func checkPattern(p string, part bool) (err error) {
	if !strings.HasPrefix(p, http.MethodPut+" ") {
		return errors.New(`want "PUT " and a path`)
	}
	wildcards := []string{"{companyId}", "{projectId}", "{uploadId}"}
	if part {
		wildcards = append(wildcards, "{partNumber}")
	} else if strings.Contains(p, "{partNumber") {
		return errors.New("a standard upload has no {partNumber}")
	}
	for _, w := range wildcards {
		if strings.Count(p, w) != 1 {
			return fmt.Errorf("want the wildcard %s exactly once", w)
		}
	}
	// http.ServeMux panics on an invalid pattern; ask it now, not at New.
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	http.NewServeMux().Handle(p, http.NotFoundHandler())
	return nil
}
