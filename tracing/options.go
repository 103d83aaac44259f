package tracing

import (
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/cellgate/cellgate/edge"
)

// Option configures [Middleware] or [Transport]. Transport reads only
// [WithTracerProvider]; an option a constructor does not read makes it
// panic at construction, never at request time, with a message naming the
// option and the constructor: both return no error, so that they compose
// in a chain, and options are written in code, so a wrong one is a
// programming error the first run reports (as with regexp.MustCompile).
type Option struct {
	name  string
	apply func(*config)
}

// Name returns the option's name, such as "Root".
func (o Option) Name() string { return o.name }

type config struct {
	root     bool
	provider trace.TracerProvider // nil: the global provider
	now      func() time.Time     // nil: time.Now, and nothing is put in the context
	trust    edge.Trust           // nil: nothing is trusted
	meters   metric.MeterProvider // nil: the global provider
}

// mustConfig applies opts for the constructor ctor, which reads only the
// options named in reads, and panics on any other.
func mustConfig(ctor string, opts []Option, reads ...string) *config {
	c := &config{}
	for _, o := range opts {
		if o.apply == nil {
			panic(fmt.Sprintf("tracing: %s: zero Option", ctor))
		}
		if !slices.Contains(reads, o.name) {
			panic(fmt.Sprintf("tracing: %s does not take option %s", ctor, o.name))
		}
		o.apply(c)
	}
	return c
}

// Root marks a [Middleware] as the public edge: every request starts a new
// trace, and a traceparent sent by the client becomes a link on the root span,
// never its parent, so no one outside can join, or force the sampling of,
// the traces inside. The client's trace headers (traceparent, tracestate,
// baggage) are removed from the request so no proxy forwards them. By
// default a Middleware continues the caller's trace.
func Root() Option { return Option{"Root", func(c *config) { c.root = true }} }

// WithTracerProvider sets the provider of [Middleware] and [Transport] spans.
// The default (or nil) is the global provider, the one otelsetup.Setup
// installs.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return Option{"WithTracerProvider", func(c *config) { c.provider = tp }}
}

// WithClock sets the clock that StartTimer reads for requests served by a
// [Middleware], so tests move time instead of sleeping. The default (or nil)
// is time.Now.
func WithClock(now func() time.Time) Option {
	return Option{"WithClock", func(c *config) { c.now = now }}
}

// WithTrust sets which requests reaching a Root [Middleware] come from a
// trusted hop (a load balancer in front of the edge), whose forwarding
// headers (Forwarded, X-Forwarded-*, X-Real-Ip) may name the client's
// address. From every other request a Root removes them, in every spelling,
// before otelhttp reads client.address from them. The default (or nil)
// trusts nothing. A Middleware without Root has no use for it and panics
// at construction when given it.
func WithTrust(t edge.Trust) Option {
	return Option{"WithTrust", func(c *config) { c.trust = t }}
}
