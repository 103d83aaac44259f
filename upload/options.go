package upload

import (
	"net/http"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/zone"
)

// Option configures [NewClient], [NewHandler] and [New]. Each constructor
// reads the options that concern it and ignores the rest, so one list can
// configure a whole chain.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults.
const (
	// DefaultMaxSize is the largest upload accepted: 5 GiB, the largest
	// single PUT that S3 takes (Azure's Put Blob stops just below, at
	// 5,000 MiB, and answers larger ones itself).
	DefaultMaxSize = 5 << 30
	// DefaultIdleTimeout is how long an upload may go without progress,
	// on the client's side or the storage's, before it is abandoned.
	DefaultIdleTimeout = time.Minute
	// DefaultFUSTimeout bounds one call to the file upload service.
	DefaultFUSTimeout = 10 * time.Second
	// MaxFUSResponse is the most the client reads of a file upload service
	// answer; anything longer is malformed.
	MaxFUSResponse = 64 << 10
)

// config holds every knob of the package; newConfig is the one place where
// defaults live.
type config struct {
	maxSize        int64
	idle           time.Duration
	storageRT      http.RoundTripper
	storageHosts   []string
	storageHeaders []string
	fusRT          http.RoundTripper
	fusTimeout     time.Duration
	cors, flags    func(http.Handler) http.Handler
	tracing        []tracing.Option
	zone           []zone.Option
	edge           []edge.Option
}

func newConfig(opts []Option) *config {
	c := &config{
		maxSize:    DefaultMaxSize,
		idle:       DefaultIdleTimeout,
		fusTimeout: DefaultFUSTimeout,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// orNewTransport returns rt, or a new edge.NewTransport() when it is nil:
// a transport is made only where it is used.
func orNewTransport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return edge.NewTransport()
	}
	return rt
}

// WithMaxSize sets the largest upload the handler accepts (Content-Length),
// answered 413 upload_too_large before any byte is read. The default is
// DefaultMaxSize.
func WithMaxSize(n int64) Option { return optionFunc(func(c *config) { c.maxSize = n }) }

// WithIdleTimeout sets how long an upload may make no progress before it is
// abandoned: a client that sends nothing is answered 408 upload_timeout,
// a storage that reads nothing (or does not answer) 504 storage_timeout.
// It is a sliding limit, so a slow but moving upload of any size completes.
// The default is DefaultIdleTimeout.
func WithIdleTimeout(d time.Duration) Option { return optionFunc(func(c *config) { c.idle = d }) }

// WithStorageTransport sets the RoundTripper of the PUTs to cloud storage.
// The default is edge.NewTransport(). Every PUT gets a client span through
// tracing.Transport, which records the storage URL without its query: the
// presigned credential never reaches a span.
func WithStorageTransport(rt http.RoundTripper) Option {
	return optionFunc(func(c *config) { c.storageRT = rt })
}

// WithStorageHosts names the storage that presigned URLs from the file
// upload service may point to; anything else is answered 502
// file_upload_service_unavailable and the PUT is never sent. NewClient
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
// is an error from NewClient.
func WithStorageHosts(hosts ...string) Option {
	return optionFunc(func(c *config) { c.storageHosts = append(c.storageHosts, hosts...) })
}

// WithStorageHeaders allows more headers in a file upload service's answer,
// as header names ("x-custom-checksum") or "prefix*" patterns. By default
// the answer may name what S3, Azure and GCS presigns cover: Content-Type,
// Content-MD5, Content-Encoding, Content-Disposition, Content-Language,
// Cache-Control and x-amz-*, x-ms-*, x-goog-*, except X-Amz-Security-Token
// (a presign carries its session token in the query) and the
// x-amz-/x-ms-/x-goog-copy-source* headers (a server-side copy of another
// object); name them here to allow them. An answer naming any other header
// is answered 502 file_upload_service_unavailable. Authorization, Cookie,
// Cookie2, Set-Cookie, Proxy-*, Host, Connection, Keep-Alive,
// Transfer-Encoding, TE, Trailer, Upgrade, Content-Length and Expect are
// never sent, in any spelling ('_' read as '-'); naming one here is an
// error from NewClient.
func WithStorageHeaders(names ...string) Option {
	return optionFunc(func(c *config) { c.storageHeaders = append(c.storageHeaders, names...) })
}

// WithFUSTransport sets the RoundTripper under the signing transport of the
// file upload service client: edge.NewTransport() by default,
// edge.Binding(fus) for a service in the same process.
func WithFUSTransport(rt http.RoundTripper) Option {
	return optionFunc(func(c *config) { c.fusRT = rt })
}

// WithFUSTimeout bounds one call to the file upload service; a call that
// takes longer is answered 502 file_upload_service_unavailable. The default
// is DefaultFUSTimeout.
func WithFUSTimeout(d time.Duration) Option { return optionFunc(func(c *config) { c.fusTimeout = d }) }

// WithCORS puts a CORS middleware (for example rs/cors's Handler) in the
// chain of New, before signature verification, so preflight requests are
// answered without a signature.
func WithCORS(mw func(http.Handler) http.Handler) Option {
	return optionFunc(func(c *config) { c.cors = mw })
}

// WithFlags puts a feature-flag middleware in the chain of New, right after
// the root span, where the seed evaluates its flags.
func WithFlags(mw func(http.Handler) http.Handler) Option {
	return optionFunc(func(c *config) { c.flags = mw })
}

// WithTracing passes options to the root span of New and to the traced
// transport of the file upload service client (tracing.WithTracerProvider,
// tracing.WithClock).
func WithTracing(opts ...tracing.Option) Option {
	return optionFunc(func(c *config) { c.tracing = append(c.tracing, opts...) })
}

// WithZone passes options to zone.DetectCompany and zone.Resolve in the
// chain of New (zone.WithTrust, zone.WithHeader, ...).
func WithZone(opts ...zone.Option) Option {
	return optionFunc(func(c *config) { c.zone = append(c.zone, opts...) })
}

// WithEdge passes options to edge.RequestID, edge.AccessLog and
// edge.Recover in the chain of New (edge.WithTrust, edge.WithLogger).
func WithEdge(opts ...edge.Option) Option {
	return optionFunc(func(c *config) { c.edge = append(c.edge, opts...) })
}
