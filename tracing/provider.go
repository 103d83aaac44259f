package tracing

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// startupGlobal is the global provider before anyone sets one: it delegates
// to nothing, so, like the no-op provider, it records no span. Once otelsetup.Setup or
// otel.SetTracerProvider installs a provider, otel.GetTracerProvider returns
// that one instead.
var startupGlobal = otel.GetTracerProvider()

// startupMeters is the global meter provider before anyone sets one, as
// startupGlobal is for traces.
var startupMeters = otel.GetMeterProvider()

// recording reports whether spans from the configured provider can be
// recorded at all. When neither spans nor metrics can (see instrumented),
// Middleware and Transport skip otelhttp, whose work would be thrown away,
// and only pass the trace context on: this is what makes "nothing
// configured" almost free.
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

// measuring reports whether instruments from the configured meter provider
// can record at all, as recording does for spans.
func (c *config) measuring() bool {
	mp := c.meters
	if mp == nil || mp == startupMeters {
		mp = otel.GetMeterProvider()
	}
	switch mp.(type) {
	case metricnoop.MeterProvider, *metricnoop.MeterProvider:
		return false
	}
	return mp != metric.MeterProvider(startupMeters)
}

// instrumented reports whether otelhttp has anything to do: spans to
// record, or HTTP metrics (http.server.*, http.client.*) to count. Either is
// reason enough; a Prometheus-only service records metrics without a
// tracer.
func (c *config) instrumented() bool { return c.recording() || c.measuring() }
