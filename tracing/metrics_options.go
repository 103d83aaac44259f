package tracing

import "go.opentelemetry.io/otel/metric"

// WithMeterProvider sets the provider of the instruments of [NewMetrics].
// The default (or nil) is the global provider, the one otelsetup.Setup
// installs. Middleware and Transport do not take it: otelhttp's HTTP
// durations follow the global provider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return Option{"WithMeterProvider", func(c *config) { c.meters = mp }}
}
