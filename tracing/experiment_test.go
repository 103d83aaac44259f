package tracing_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/zone/experiment"
)

var _ experiment.Observer = (*tracing.Instruments)(nil)

func TestMetricsCountExposures(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	m, err := tracing.NewInstruments(tracing.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	require.NoError(t, err)
	ctx := context.Background()
	m.ExperimentExposure(ctx, "checkout", "treatment")
	m.ExperimentExposure(ctx, "checkout", "treatment")
	m.ExperimentExposure(ctx, "checkout", "control")
	got := collect(t, reader)
	assert.EqualValues(t, 2, sum(t, got, "cellgate.experiment.exposures", tracing.ExperimentKey.String("checkout"), tracing.VariantKey.String("treatment")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.experiment.exposures", tracing.ExperimentKey.String("checkout"), tracing.VariantKey.String("control")))
	if allocs := testing.AllocsPerRun(100, func() { m.ExperimentExposure(ctx, "checkout", "control") }); allocs > 1 {
		t.Errorf("an exposure allocates %v times", allocs)
	}
}
