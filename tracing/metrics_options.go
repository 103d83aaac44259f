package tracing

import "go.opentelemetry.io/otel/metric"

// WithMeterProvider sets the meter provider of [NewMetrics]' instruments,
// and of the HTTP metrics that [Middleware] and [Transport] record through
// otelhttp. The default (or nil) is the global provider, the one
// otelsetup.SetupMetrics installs.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return Option{"WithMeterProvider", func(c *config) { c.meters = mp }}
}
