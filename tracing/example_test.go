package tracing_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/tracing"
)

// A public edge: the client's traceparent becomes a link, the span is named
// after the route, and the zone that a later stage found is on the span.
func ExampleMiddleware() {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /companies/{id}/projects", func(w http.ResponseWriter, r *http.Request) {
		edge.AddLogAttrs(r.Context(), slog.String("zone", "us01")) // as zone.Resolve does
	})
	span, err := tracing.Middleware("router", tracing.Root(), tracing.WithTracerProvider(tp))
	if err != nil {
		fmt.Println(err)
		return
	}
	requestID, err := edge.RequestID()
	if err != nil {
		fmt.Println(err)
		return
	}
	h := edge.Chain(span, requestID, tracing.Route)(mux)

	r := httptest.NewRequest(http.MethodGet, "/companies/42/projects?page=2", nil)
	r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), r)

	s := sr.Ended()[0]
	fmt.Println(s.Name())
	fmt.Println("parent:", s.Parent().IsValid(), "linked:", s.Links()[0].SpanContext.TraceID())
	for _, kv := range s.Attributes() {
		if kv.Key == tracing.ZoneKey || kv.Key == "url.path" {
			fmt.Println(kv.Key, kv.Value.String())
		}
	}
	// Output:
	// GET /companies/{id}/projects
	// parent: false linked: 4bf92f3577b34da6a3ce929d0e0e4736
	// url.path /companies/42/projects
	// cellgate.zone us01
}

// The seed's upload timings, on the span of the request.
func ExampleStartTimer() {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))

	span, err := tracing.Middleware("cell", tracing.WithTracerProvider(tp))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := span(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stop := tracing.StartTimer(r.Context(), "upload.fetch_cloud_storage_url_duration_ms")
		// ... ask the file upload service for a presigned URL ...
		stop()
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPut, "/uploads/u1", nil))

	for _, kv := range sr.Ended()[0].Attributes() {
		if kv.Key == "upload.fetch_cloud_storage_url_duration_ms" {
			fmt.Println(kv.Key, kv.Value.Type())
		}
	}
	// Output:
	// upload.fetch_cloud_storage_url_duration_ms INT64
}
