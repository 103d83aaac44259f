// Package otelsetup installs the OpenTelemetry SDK for a cellgate service:
// a global TracerProvider with the exporters and sampler that the standard
// OTEL_* environment variables describe (OTLP over HTTP, the console), and
// the W3C trace context and baggage propagator.
//
// It is the only cellgate package that links the OTel SDK and exporters;
// package tracing depends on the OTel API alone, so a library or a service
// that does not export spans never links them. Call Setup once in main:
//
//	shutdown, err := otelsetup.Setup(ctx, otelsetup.WithServiceName("router"))
//	if err != nil {
//		return err
//	}
//	defer shutdown(context.Background()) // flushes what is pending
//
// SetupMetrics does the same for metrics: a global MeterProvider exporting
// OTLP over HTTP and, for scraping, a Prometheus exporter whose handler is
// served on an admin listener that is not public:
//
//	m, err := otelsetup.SetupMetrics(ctx, otelsetup.WithServiceName("router"), otelsetup.WithPrometheus())
//	if err != nil {
//		return err
//	}
//	defer m.Shutdown(context.Background())
//	admin := http.NewServeMux()
//	admin.Handle("GET /metrics", m.Handler()) // curl -s 127.0.0.1:9090/metrics | grep cellgate_
//	go http.ListenAndServe("127.0.0.1:9090", admin)
//
// Prometheus' client library is linked by this package only.
package otelsetup
