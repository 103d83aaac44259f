package tracing_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/cache"
	"github.com/cellgate/cellgate/zone/ratelimit"
)

// Metrics implements the observer of every package that may not import
// OpenTelemetry itself, and edge's problem observer.
var (
	_ zone.DirectoryObserver                                           = (*tracing.Instruments)(nil)
	_ passport.Observer                                                = (*tracing.Instruments)(nil)
	_ hmacsig.Observer                                                 = (*tracing.Instruments)(nil)
	_ ratelimit.Observer                                               = (*tracing.Instruments)(nil)
	_ upload.Observer                                                  = (*tracing.Instruments)(nil)
	_ func(context.Context, int, string)                               = (*tracing.Instruments)(nil).Problem
	_ func(func(context.Context, int, string))                         = edge.SetProblemObserver
	_ func(string, func() int)                                         = (*tracing.Instruments)(nil).ObserveDirectoryEntries
	_ func(...tracing.InstrumentsOption) (*tracing.Instruments, error) = tracing.NewInstruments
)

// collect reads every metric of reader, by name.
func collect(t testing.TB, reader *sdkmetric.ManualReader) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// sum is the value of the counter name for the data point with attrs.
func sum(t testing.TB, got map[string]metricdata.Aggregation, name string, attrs ...attribute.KeyValue) int64 {
	t.Helper()
	want := attribute.NewSet(attrs...)
	switch d := got[name].(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if p.Attributes.Equals(&want) {
				return p.Value
			}
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			if p.Attributes.Equals(&want) {
				return p.Value
			}
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			if p.Attributes.Equals(&want) {
				return int64(p.Count)
			}
		}
	}
	return 0
}

var _ cache.Observer = (*tracing.Instruments)(nil)

func TestMetricsRecordWithLowCardinalityAttributes(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	m, err := tracing.NewInstruments(tracing.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	require.NoError(t, err)
	ctx := context.Background()
	m.DirectoryLookup(ctx, zone.LookupHit)
	m.DirectoryLookup(ctx, zone.LookupHit)
	m.DirectoryLookup(ctx, zone.LookupMiss)
	m.CacheEvent(ctx, cache.EventCoalesced)
	m.CacheEvent(ctx, cache.EventCoalesced)
	m.DirectoryCall(ctx, 3*time.Millisecond, false)
	m.ObserveDirectoryEntries("router", func() int { return 7 })
	m.PassportCache(ctx, "us01", true)
	m.PassportMint(ctx, "us01", 10*time.Millisecond, "ok")
	m.PassportRejected(ctx, "passport_expired")
	m.RevocationNotice(ctx, "session")
	m.RevocationLag(ctx, 40*time.Millisecond)
	m.SignatureVerified(ctx, hmacsig.OutcomeOK)
	m.RateLimitDecision(ctx, ratelimit.DecisionLimited)
	m.Problem(ctx, 429, "rate_limited")
	m.GeofenceDecision(ctx, "uk", "location_denied")
	m.GeofenceDecision(ctx, "", "database_reloaded")
	m.UploadStarted(ctx, "us01")
	m.UploadFinished(ctx, "us01", 1024, time.Second, "ok")

	got := collect(t, reader)
	assert.EqualValues(t, 2, sum(t, got, "cellgate.zone.directory.lookups", tracing.ResultKey.String("hit")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.zone.directory.lookups", tracing.ResultKey.String("miss")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.zone.directory.call.duration", tracing.OutcomeKey.String("ok")))
	assert.EqualValues(t, 7, sum(t, got, "cellgate.zone.directory.entries", tracing.DirectoryKey.String("router")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.passport.cache.lookups", tracing.ZoneKey.String("us01"), tracing.ResultKey.String("hit")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.passport.mint.duration", tracing.ZoneKey.String("us01"), tracing.OutcomeKey.String("ok")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.passport.rejections", tracing.ProblemKey.String("passport_expired")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.passport.revocation.notices", tracing.RevocationKindKey.String("session")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.passport.revocation.lag"))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.signature.verifications", tracing.OutcomeKey.String("ok")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.ratelimit.decisions", tracing.DecisionKey.String("limited")))
	assert.EqualValues(t, 2, sum(t, got, "cellgate.cache.events", tracing.CacheEventKey.String("coalesced")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.problems", tracing.ProblemKey.String("rate_limited")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.geofence.decisions", tracing.RegionKey.String("uk"), tracing.DecisionKey.String("location_denied")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.geofence.decisions", tracing.DecisionKey.String("database_reloaded")))
	assert.EqualValues(t, 1024, sum(t, got, "cellgate.upload.bytes", tracing.ZoneKey.String("us01"), tracing.OutcomeKey.String("ok")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.upload.duration", tracing.ZoneKey.String("us01"), tracing.OutcomeKey.String("ok")))
	assert.EqualValues(t, 0, sum(t, got, "cellgate.upload.active", tracing.ZoneKey.String("us01")))
}

// perRequest is what one refused, signed, rate-limited request through a
// gateway records: the instruments' cost per request.
func perRequest(ctx context.Context, m *tracing.Instruments) {
	m.SignatureVerified(ctx, hmacsig.OutcomeOK)
	m.DirectoryLookup(ctx, zone.LookupHit)
	m.PassportCache(ctx, "us01", true)
	m.RateLimitDecision(ctx, ratelimit.DecisionAllowed)
	m.Problem(ctx, 429, "rate_limited")
}

// The no-op provider, what a service with nothing configured has, costs no
// allocation; the SDK, once each attribute set is built, none either.
func TestMetricsAllocateNothing(t *testing.T) {
	ctx := context.Background()
	for name, mp := range map[string]func() (*tracing.Instruments, error){
		"noop": func() (*tracing.Instruments, error) {
			return tracing.NewInstruments(tracing.WithMeterProvider(noop.NewMeterProvider()))
		},
		"global": func() (*tracing.Instruments, error) { return tracing.NewInstruments() },
		"sdk": func() (*tracing.Instruments, error) {
			return tracing.NewInstruments(tracing.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))))
		},
	} {
		m, err := mp()
		require.NoError(t, err)
		perRequest(ctx, m)
		allocs := testing.AllocsPerRun(100, func() { perRequest(ctx, m) })
		if name != "sdk" {
			assert.Zero(t, allocs, name)
		} else {
			t.Logf("sdk: %v allocations per request", allocs)
		}
	}
}

// BenchmarkMetrics is the cost of the instruments of one request (five
// measurements, see perRequest) with the no-op provider and with the SDK.
func BenchmarkMetrics(b *testing.B) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		opts []tracing.InstrumentsOption
	}{
		{"noop", []tracing.InstrumentsOption{tracing.WithMeterProvider(noop.NewMeterProvider())}},
		{"sdk", []tracing.InstrumentsOption{tracing.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())))}},
	} {
		b.Run(c.name, func(b *testing.B) {
			m, err := tracing.NewInstruments(c.opts...)
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				perRequest(ctx, m)
			}
		})
	}
}
