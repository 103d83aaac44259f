package tracing

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// startupGlobal is the global provider before anyone sets one: it delegates
// to nothing, so, like the no-op provider, it records no span. Once otelsetup.Setup or
// otel.SetTracerProvider installs a provider, otel.GetTracerProvider returns
// that one instead.
var startupGlobal = otel.GetTracerProvider()

// recording reports whether spans from the configured provider can be
// recorded at all. When they cannot, Middleware and Transport skip otelhttp,
// whose attribute and metric work would be thrown away, and only pass the
// trace context on: this is what makes "nothing configured" almost free.
func (c *config) recording() bool {
	tp := c.provider
	if tp == nil || tp == startupGlobal {
		// The startup global delegates to whatever is installed later.
		tp = otel.GetTracerProvider()
	}
	switch tp.(type) {
	case noop.TracerProvider, *noop.TracerProvider:
		return false
	}
	return tp != trace.TracerProvider(startupGlobal)
}
