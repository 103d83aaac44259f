package tracing

import (
	"io"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/cellgate/cellgate/edge"
)

// Option configures Setup, Middleware and Transport. Each reads the options
// that concern it and ignores the rest, so one list can be shared.
type Option interface{ apply(*config) }

type config struct {
	root        bool
	provider    trace.TracerProvider // nil: the global provider
	console     io.Writer
	serviceName string
	now         func() time.Time // nil: time.Now, and nothing is put in the context
	trust       edge.Trust       // nil: nothing is trusted
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

func newConfig(opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// Root marks a Middleware as the public edge: every request starts a new
// trace, and a traceparent sent by the client becomes a link on the root span,
// never its parent, so no one outside can join, or force the sampling of,
// the traces inside. The client's trace headers (traceparent, tracestate,
// baggage) are removed from the request so no proxy forwards them.
func Root() Option { return optionFunc(func(c *config) { c.root = true }) }

// WithTracerProvider sets the provider of Middleware and Transport spans.
// The default is the global provider, the one Setup installs.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.provider = tp })
}

// WithConsole makes Setup also write every span to w, one JSON object per
// span as it ends: for local runs, whatever OTEL_TRACES_EXPORTER says.
func WithConsole(w io.Writer) Option {
	return optionFunc(func(c *config) { c.console = w })
}

// WithServiceName sets the service.name of Setup's resource when neither
// OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one: the operator's
// environment wins over the code.
func WithServiceName(name string) Option {
	return optionFunc(func(c *config) { c.serviceName = name })
}

// WithClock sets the clock that StartTimer reads for requests served by a
// Middleware, so tests move time instead of sleeping. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) { c.now = now })
}

// WithTrust sets which requests reaching a Root Middleware come from a
// trusted hop (a load balancer in front of the edge), whose forwarding
// headers (Forwarded, X-Forwarded-*, X-Real-Ip) may name the client's
// address. From every other request a Root removes them, in every spelling,
// before otelhttp reads client.address from them. The default at a root
// trusts nothing; Middleware without Root does not read this option.
func WithTrust(t edge.Trust) Option {
	return optionFunc(func(c *config) { c.trust = t })
}
