package tracing_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/tracing"
)

// discard is a ResponseWriter that costs nothing, so the benchmarks measure
// the middleware and not the recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

func sampling(b *testing.B) trace.TracerProvider {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	b.Cleanup(func() { _ = tp.Shutdown(b.Context()) })
	return tp
}

// BenchmarkMiddleware is the cost of a server span per request: the bare
// mux, then Middleware with the no-op provider (nothing configured) and
// with a provider that samples and exports every span.
func BenchmarkMiddleware(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /companies/{id}/projects", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	cases := []struct {
		name string
		h    func(b *testing.B) http.Handler
	}{
		{"bare", func(*testing.B) http.Handler { return mux }},
		{"noop", func(*testing.B) http.Handler {
			return must.Build(tracing.Middleware("svc", tracing.WithTracerProvider(noop.NewTracerProvider())))(mux)
		}},
		{"noop-root", func(*testing.B) http.Handler {
			return must.Build(tracing.Middleware("svc", tracing.Root(), tracing.WithTracerProvider(noop.NewTracerProvider())))(mux)
		}},
		{"sampled", func(b *testing.B) http.Handler {
			return must.Build(tracing.Middleware("svc", tracing.WithTracerProvider(sampling(b))))(mux)
		}},
		{"sampled-root", func(b *testing.B) http.Handler {
			return must.Build(tracing.Middleware("svc", tracing.Root(), tracing.WithTracerProvider(sampling(b))))(mux)
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h := c.h(b)
			r := httptest.NewRequest(http.MethodGet, "/companies/42/projects", nil)
			r.Header.Set("User-Agent", "bench")
			w := &discard{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkTransport is the cost of a client span per outbound call,
// redaction included, over a RoundTripper that does nothing.
func BenchmarkTransport(b *testing.B) {
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
	})
	for _, c := range []struct {
		name string
		rt   func(b *testing.B) http.RoundTripper
	}{
		{"bare", func(*testing.B) http.RoundTripper { return base }},
		{"noop", func(*testing.B) http.RoundTripper {
			return must.Build(tracing.Transport(base, tracing.WithTracerProvider(noop.NewTracerProvider())))
		}},
		{"sampled", func(b *testing.B) http.RoundTripper {
			return must.Build(tracing.Transport(base, tracing.WithTracerProvider(sampling(b))))
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			rt := c.rt(b)
			req, _ := http.NewRequest(http.MethodPut, s3Presigned, nil)
			b.ReportAllocs()
			for b.Loop() {
				res, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				res.Body.Close()
			}
		})
	}
}
