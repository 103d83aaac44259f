package otelsetup_test

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/tracing/otelsetup"
)

func TestSetupMetricsServesPrometheus(t *testing.T) {
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	t.Setenv("OTEL_SERVICE_NAME", "gateway")
	m, err := otelsetup.SetupMetrics(context.Background(), otelsetup.WithPrometheus())
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = m.Shutdown(context.Background())
		otel.SetMeterProvider(noop.NewMeterProvider())
	})
	require.NotNil(t, m.Handler())
	cm, err := tracing.NewInstruments() // the global provider SetupMetrics installed
	require.NoError(t, err)
	cm.Problem(context.Background(), 429, "rate_limited")

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	assert.Contains(t, string(body), `cellgate_problems_total{cellgate_problem="rate_limited"`)
}

func TestSetupMetricsWithNothingConfiguredInstallsNothing(t *testing.T) {
	t.Setenv("OTEL_METRICS_EXPORTER", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "")
	m, err := otelsetup.SetupMetrics(context.Background())
	require.NoError(t, err)
	assert.Nil(t, m.Handler())
	assert.IsType(t, noop.MeterProvider{}, m.MeterProvider())
	assert.NoError(t, m.Shutdown(context.Background()))
}

func TestSetupMetricsRefusesMistakes(t *testing.T) {
	t.Setenv("OTEL_METRICS_EXPORTER", "statsd")
	_, err := otelsetup.SetupMetrics(context.Background())
	assert.ErrorContains(t, err, `unknown exporter "statsd"`)

	t.Setenv("OTEL_METRICS_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	_, err = otelsetup.SetupMetrics(context.Background())
	assert.ErrorContains(t, err, "not supported")

	_, err = otelsetup.SetupMetrics(context.Background(), nil)
	assert.ErrorContains(t, err, "otelsetup: SetupMetrics: zero Option")
	_, err = otelsetup.SetupMetrics(context.Background(), otelsetup.ServiceNameOption{})
	assert.ErrorContains(t, err, "otelsetup: SetupMetrics: zero Option")
}
