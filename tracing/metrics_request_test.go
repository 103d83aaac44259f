package tracing_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/ratelimit"
)

// instrumented is a request path with every observer cellgate has on it:
// a signed URL verified, a rate limit decision, a zone directory hit and a
// problem written. m nil means no observer at all.
func instrumented(t testing.TB, m *tracing.Instruments) (http.Handler, *http.Request) {
	t.Helper()
	key := bytes.Repeat([]byte{7}, 32)
	var (
		vOpts   []hmacsig.VerifierOption
		rlOpts  []ratelimit.Option
		dirOpts []zone.CacheOption
	)
	if m != nil {
		vOpts = append(vOpts, hmacsig.WithObserver(m))
		rlOpts = append(rlOpts, ratelimit.WithObserver(m))
		dirOpts = append(dirOpts, zone.WithDirectoryObserver(m))
	}
	v, err := hmacsig.NewVerifier(hmacsig.Keys{Current: key}, vOpts...)
	require.NoError(t, err)
	limit, err := ratelimit.New(1e9, 1e9, append(rlOpts, ratelimit.WithKeyFunc(func(*http.Request) string { return "k" }))...)
	require.NoError(t, err)
	static, err := zone.NewStaticDirectory(map[string]zone.Zone{"1": {Name: "us01", WebBaseURL: "https://us01.example.com"}})
	require.NoError(t, err)
	dir, err := zone.NewCachingDirectory(static, dirOpts...)
	require.NoError(t, err)
	h := edge.Chain(must.Build(hmacsig.Require(v)), limit)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := dir.Lookup(r.Context(), "1"); err != nil {
			panic(err)
		}
		edge.WriteProblem(w, r, ratelimit.ErrRateLimited) // any problem: the observer counts it
	}))
	s, err := hmacsig.NewSigner(key)
	require.NoError(t, err)
	u, err := s.SignURL(http.MethodGet, "http://edge.test/companies/1/projects", time.Hour)
	require.NoError(t, err)
	return h, httptest.NewRequest(http.MethodGet, strings.TrimPrefix(u, "http://edge.test"), nil)
}

func withProblems(t testing.TB, m *tracing.Instruments) {
	if m != nil {
		edge.SetProblemObserver(m.Problem)
		t.Cleanup(func() { edge.SetProblemObserver(nil) })
	}
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// Observers on the no-op provider (a service with no metrics configured)
// add no allocation to a request, whatever the path allocates itself.
func TestNoopMetricsAddNoAllocationPerRequest(t *testing.T) {
	allocs := func(m *tracing.Instruments) float64 {
		withProblems(t, m)
		h, r := instrumented(t, m)
		w := &discardWriter{h: http.Header{}}
		serve := func() { clear(w.h); h.ServeHTTP(w, r) }
		serve()
		return testing.AllocsPerRun(200, serve)
	}
	// Exact without the race detector; under it sync.Pool drops at random,
	// so the counts may differ by a pooled object or two either way.
	same := func(want, got float64, msg string) {
		t.Helper()
		if raceEnabled {
			assert.InDelta(t, want, got, 2, msg)
			return
		}
		assert.Equal(t, want, got, msg)
	}
	none := allocs(nil)
	m, err := tracing.NewInstruments(tracing.WithMeterProvider(noop.NewMeterProvider()))
	require.NoError(t, err)
	same(none, allocs(m), "no-op observers allocate")
	global, err := tracing.NewInstruments() // the global provider, nothing installed
	require.NoError(t, err)
	same(none, allocs(global), "observers on the startup global provider allocate")
}

// BenchmarkInstrumentedRequest is the whole request path of
// instrumented: without observers, with observers on the no-op provider
// and with observers on the SDK (an in-memory reader). The difference is
// the instruments' cost per request.
func BenchmarkInstrumentedRequest(b *testing.B) {
	for _, c := range []struct {
		name string
		m    func() (*tracing.Instruments, error)
	}{
		{"none", func() (*tracing.Instruments, error) { return nil, nil }},
		{"noop", func() (*tracing.Instruments, error) {
			return tracing.NewInstruments(tracing.WithMeterProvider(noop.NewMeterProvider()))
		}},
		{"sdk", func() (*tracing.Instruments, error) {
			return tracing.NewInstruments(tracing.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))))
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			m, err := c.m()
			require.NoError(b, err)
			withProblems(b, m)
			h, r := instrumented(b, m)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r.WithContext(context.Background()))
			}
		})
	}
}

// The path of instrumented reaches every observer: the benchmark measures
// what it claims to.
func TestInstrumentedRequestReachesEveryObserver(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	m, err := tracing.NewInstruments(tracing.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	require.NoError(t, err)
	withProblems(t, m)
	h, r := instrumented(t, m)
	h.ServeHTTP(httptest.NewRecorder(), r)
	got := collect(t, reader)
	assert.EqualValues(t, 1, sum(t, got, "cellgate.signature.verifications", tracing.OutcomeKey.String("ok")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.ratelimit.decisions", tracing.DecisionKey.String("allowed")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.zone.directory.lookups", tracing.ResultKey.String("miss")))
	assert.EqualValues(t, 1, sum(t, got, "cellgate.problems", tracing.ProblemKey.String("rate_limited")))
}
