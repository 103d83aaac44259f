package tracing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/tracing"
)

// HTTP metrics are recorded whenever a meter records, spans whenever a
// tracer does, each without the other: a Prometheus-only service has its
// http.server.* and http.client.* series (issue 25: they vanished while no
// tracer recorded).
func TestHTTPMetricsAndSpansIndependently(t *testing.T) {
	for _, tc := range []struct {
		name           string
		spans, metrics bool
	}{
		{"tracer and meter", true, true},
		{"meter only", false, true},
		{"tracer only", true, false},
		{"neither", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spans := tracetest.NewSpanRecorder()
			var tp trace.TracerProvider = tracenoop.NewTracerProvider()
			if tc.spans {
				tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			}
			reader := sdkmetric.NewManualReader()
			meters := tracing.WithMeterProvider(metricnoop.NewMeterProvider())
			if tc.metrics {
				meters = tracing.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
			}
			providers := tracing.WithTracerProvider(tp)

			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			defer upstream.Close()
			client := &http.Client{Transport: must.Build(tracing.Transport(nil, providers, meters))}
			h := must.Build(tracing.Middleware("svc", providers, meters, tracing.Root()))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, upstream.URL, nil)
				require.NoError(t, err)
				resp, err := client.Do(req)
				require.NoError(t, err)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))

			var rm metricdata.ResourceMetrics
			if tc.metrics {
				require.NoError(t, reader.Collect(context.Background(), &rm))
			}
			names := map[string]bool{}
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					names[m.Name] = true
				}
			}
			assert.Equal(t, tc.metrics, names["http.server.request.duration"], "server metrics in %v", names)
			assert.Equal(t, tc.metrics, names["http.client.request.duration"], "client metrics in %v", names)
			want := 0
			if tc.spans {
				want = 2 // the server span and the client span
			}
			assert.Len(t, spans.Ended(), want)
		})
	}
}
