package otelsetup

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// MetricsSetup is what SetupMetrics installed: the meter provider, the
// Prometheus scrape handler when one was asked for, and the shutdown. The
// instruments that record into the provider are tracing.Instruments.
type MetricsSetup struct {
	provider metric.MeterProvider
	handler  http.Handler
	shutdown func(context.Context) error
}

// MeterProvider returns the provider SetupMetrics installed as the global
// one, or the no-op provider when nothing was configured. Pass it to
// tracing.NewInstruments with tracing.WithMeterProvider, or let NewInstruments use
// the global one.
func (m *MetricsSetup) MeterProvider() metric.MeterProvider { return m.provider }

// Handler returns the Prometheus scrape handler (the text exposition
// format) when WithPrometheus or OTEL_METRICS_EXPORTER=prometheus asked
// for one, or nil. Serve it on an admin listener that is not public:
//
//	admin := http.NewServeMux()
//	admin.Handle("GET /metrics", m.Handler())
//	go http.ListenAndServe("127.0.0.1:9090", admin)
//
// It serves its own registry, holding only the provider's metrics.
func (m *MetricsSetup) Handler() http.Handler { return m.handler }

// Shutdown flushes pending metrics and stops the exporters; call it before
// the process exits.
func (m *MetricsSetup) Shutdown(ctx context.Context) error { return m.shutdown(ctx) }

// WithPrometheus makes [SetupMetrics] add a Prometheus exporter, whatever
// OTEL_METRICS_EXPORTER says, whose scrape handler [MetricsSetup.Handler]
// returns. By default there is a Prometheus exporter only when
// OTEL_METRICS_EXPORTER names prometheus.
func WithPrometheus() MetricsOption {
	return metricsOpt{"WithPrometheus", func(c *config) error { c.prometheus = true; return nil }}
}

// SetupMetrics installs the global MeterProvider described by the standard
// OTEL_* environment variables and its options, which cellgate's
// instruments (tracing.NewInstruments) and otelhttp's HTTP durations record
// into.
//
//   - OTEL_METRICS_EXPORTER: a comma-separated list of otlp (OTLP over HTTP,
//     configured by the OTEL_EXPORTER_OTLP_* variables, exported every
//     OTEL_METRIC_EXPORT_INTERVAL milliseconds, 60000 by default),
//     prometheus (a scrape handler, see [MetricsSetup.Handler]) and none. Unset, it
//     is otlp when OTEL_EXPORTER_OTLP_ENDPOINT or
//     OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is set, and none otherwise.
//   - OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES: the resource, as for
//     Setup.
//   - OTEL_SDK_DISABLED=true: no provider.
//
// With no exporter the global provider is left alone (it records nothing)
// and the returned MetricsSetup's MeterProvider is the no-op one. Its
// options are WithPrometheus and WithServiceName; a malformed variable or a
// nil option is an error, and nothing is installed.
func SetupMetrics(ctx context.Context, opts ...MetricsOption) (*MetricsSetup, error) {
	c, err := newConfig("SetupMetrics", opts, MetricsOption.metricsOption)
	if err != nil {
		return nil, err
	}
	none := &MetricsSetup{provider: noop.NewMeterProvider(), shutdown: func(context.Context) error { return nil }}
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return none, nil
	}
	otlp, prom, err := metricExportersFromEnv()
	if err != nil {
		return nil, err
	}
	prom = prom || c.prometheus
	if !otlp && !prom {
		return none, nil
	}
	res, err := newResource(ctx, c.serviceName)
	if err != nil {
		return nil, err
	}
	m := &MetricsSetup{}
	mpOpts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	if prom {
		reg := promclient.NewRegistry()
		exp, err := prometheus.New(prometheus.WithRegisterer(reg))
		if err != nil {
			return nil, fmt.Errorf("otelsetup: Prometheus exporter: %w", err)
		}
		mpOpts = append(mpOpts, sdkmetric.WithReader(exp))
		m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	}
	if otlp {
		exp, err := newOTLPMetrics(ctx)
		if err != nil {
			return nil, err
		}
		// The periodic reader reads OTEL_METRIC_EXPORT_INTERVAL and
		// OTEL_METRIC_EXPORT_TIMEOUT itself.
		mpOpts = append(mpOpts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
	}
	mp := sdkmetric.NewMeterProvider(mpOpts...)
	otel.SetMeterProvider(mp)
	m.provider, m.shutdown = mp, mp.Shutdown
	return m, nil
}

// metricExportersFromEnv reads OTEL_METRICS_EXPORTER; see SetupMetrics.
func metricExportersFromEnv() (otlp, prom bool, err error) {
	v := strings.TrimSpace(os.Getenv("OTEL_METRICS_EXPORTER"))
	if v == "" {
		return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") != "", false, nil
	}
	for name := range strings.SplitSeq(v, ",") {
		switch name = strings.ToLower(strings.TrimSpace(name)); name {
		case "otlp":
			otlp = true
		case "prometheus":
			prom = true
		case "none":
		default:
			return false, false, fmt.Errorf("otelsetup: OTEL_METRICS_EXPORTER: unknown exporter %q (want otlp, prometheus or none)", name)
		}
	}
	return otlp, prom, nil
}

// newOTLPMetrics returns the OTLP/HTTP metric exporter, which reads the
// other OTEL_EXPORTER_OTLP_* variables itself; gRPC is refused, as for
// traces.
func newOTLPMetrics(ctx context.Context) (sdkmetric.Exporter, error) {
	for _, key := range []string{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := strings.TrimSpace(os.Getenv(key)); p != "" {
			if p != "http/protobuf" {
				return nil, fmt.Errorf("otelsetup: %s: protocol %q not supported (want http/protobuf)", key, p)
			}
			break
		}
	}
	e, err := otlpmetrichttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otelsetup: OTLP metric exporter: %w", err)
	}
	return e, nil
}
