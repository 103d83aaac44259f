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
	maxSize      int64
	idle         time.Duration
	storageRT    http.RoundTripper
	storageHosts map[string]bool
	fusRT        http.RoundTripper
	fusTimeout   time.Duration
	cors, flags  func(http.Handler) http.Handler
	tracing      []tracing.Option
	zone         []zone.Option
	edge         []edge.Option
}

func newConfig(opts []Option) *config {
	c := &config{
		maxSize:      DefaultMaxSize,
		idle:         DefaultIdleTimeout,
		storageHosts: map[string]bool{},
		fusTimeout:   DefaultFUSTimeout,
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

// WithStorageHosts allows presigned URLs over plain http to the given hosts
// ("host" or "host:port", such as a MinIO inside the network). Any other
// presigned URL must be https; the file upload service cannot point the
// handler anywhere else.
func WithStorageHosts(hosts ...string) Option {
	return optionFunc(func(c *config) {
		for _, h := range hosts {
			c.storageHosts[h] = true
		}
	})
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
