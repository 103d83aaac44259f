package tracing

import (
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/optcheck"
)

// option is one option: its name, for errors, and what it does to the
// config.
type option struct {
	name  string
	apply func(*config) error
}

// MiddlewareOption configures [Middleware].
type MiddlewareOption interface{ middlewareOption() option }

// TransportOption configures [Transport].
type TransportOption interface{ transportOption() option }

// InstrumentsOption configures [NewInstruments].
type InstrumentsOption interface{ instrumentsOption() option }

type middlewareOpt option

func (o middlewareOpt) middlewareOption() option { return option(o) }

// TracerProviderOption is [WithTracerProvider]: an option of [Middleware]
// and [Transport].
type TracerProviderOption struct{ o option }

func (o TracerProviderOption) middlewareOption() option { return o.o }
func (o TracerProviderOption) transportOption() option  { return o.o }

// MeterProviderOption is [WithMeterProvider]: an option of [Middleware],
// [Transport] and [NewInstruments].
type MeterProviderOption struct{ o option }

func (o MeterProviderOption) middlewareOption() option  { return o.o }
func (o MeterProviderOption) transportOption() option   { return o.o }
func (o MeterProviderOption) instrumentsOption() option { return o.o }

type config struct {
	root     bool
	provider trace.TracerProvider // nil: the global provider
	now      func() time.Time     // nil: time.Now, and nothing is put in the context
	trust    edge.Trust           // nil: nothing is trusted
	meters   metric.MeterProvider // nil: the global provider
}

// newConfig applies opts, taken apart by get, for the constructor ctor. A
// nil option is refused as the zero one is.
func newConfig[O any](ctor string, opts []O, get func(O) option) (*config, error) {
	c := &config{}
	parts := func(o O) (string, func(*config) error) {
		if any(o) == nil {
			return "", nil
		}
		op := get(o)
		return op.name, op.apply
	}
	if err := optcheck.Apply(c, "tracing", ctor, opts, parts); err != nil {
		return nil, err
	}
	return c, nil
}

// Root marks a [Middleware] as the public edge: every request starts a new
// trace, and a traceparent sent by the client becomes a link on the root span,
// never its parent, so no one outside can join, or force the sampling of,
// the traces inside. The client's trace headers (traceparent, tracestate,
// baggage) are removed from the request so no proxy forwards them. By
// default a Middleware continues the caller's trace.
func Root() MiddlewareOption {
	return middlewareOpt{"Root", func(c *config) error { c.root = true; return nil }}
}

// WithTracerProvider sets the provider of [Middleware] and [Transport] spans.
// The default (or nil) is the global provider, the one otelsetup.Setup
// installs.
func WithTracerProvider(tp trace.TracerProvider) TracerProviderOption {
	return TracerProviderOption{option{"WithTracerProvider", func(c *config) error { c.provider = tp; return nil }}}
}

// WithMeterProvider sets the meter provider of [NewInstruments]'
// instruments, and of the HTTP metrics that [Middleware] and [Transport]
// record through otelhttp. The default (or nil) is the global provider, the
// one otelsetup.SetupMetrics installs.
func WithMeterProvider(mp metric.MeterProvider) MeterProviderOption {
	return MeterProviderOption{option{"WithMeterProvider", func(c *config) error { c.meters = mp; return nil }}}
}

// WithClock sets the clock that StartTimer reads for requests served by a
// [Middleware], so tests move time instead of sleeping. The default (or nil)
// is time.Now.
func WithClock(now func() time.Time) MiddlewareOption {
	return middlewareOpt{"WithClock", func(c *config) error { c.now = now; return nil }}
}

// WithTrust sets which requests reaching a Root [Middleware] come from a
// trusted hop (a load balancer in front of the edge), whose forwarding
// headers (Forwarded, X-Forwarded-*, X-Real-Ip) may name the client's
// address. From every other request a Root removes them, in every spelling,
// before otelhttp reads client.address from them. The default (or nil)
// trusts nothing. A Middleware without Root has no use for it: given it
// there, Middleware returns an error.
func WithTrust(t edge.Trust) MiddlewareOption {
	return middlewareOpt{"WithTrust", func(c *config) error { c.trust = t; return nil }}
}
