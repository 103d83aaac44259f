package tracing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/tracing"
)

type deepKey struct{}

func TestSetAttributes(t *testing.T) {
	sr, tp := recorder(t)
	h := must.Build(tracing.Middleware("svc", tracing.WithTracerProvider(tp)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deep := context.WithValue(r.Context(), deepKey{}, 1) // anywhere below the handler
		tracing.SetAttributes(deep, attribute.String("upload.id", "u1"), attribute.Int64("upload.size", 1<<20))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPut, "/", nil))
	s := sr.Ended()[0]
	if got, _ := attr(s, "upload.id"); got != "u1" {
		t.Errorf("upload.id = %q", got)
	}
	if got, _ := attr(s, "upload.size"); got != "1048576" {
		t.Errorf("upload.size = %q", got)
	}

	// Outside a request there is no span: nothing happens, nothing breaks.
	tracing.SetAttributes(context.Background(), attribute.String("k", "v"))
}

func TestStartTimer(t *testing.T) {
	tests := []struct {
		elapsed time.Duration
		want    int64
	}{
		{0, 0},
		{999 * time.Microsecond, 0}, // whole milliseconds
		{12 * time.Millisecond, 12},
		{90 * time.Second, 90000},
	}
	for _, tt := range tests {
		t.Run(tt.elapsed.String(), func(t *testing.T) {
			sr, tp := recorder(t)
			clk := newClock()
			h := must.Build(tracing.Middleware("svc", tracing.WithTracerProvider(tp), tracing.WithClock(clk.Now)))(
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					stop := tracing.StartTimer(r.Context(), "upload.stream_to_cloud_storage_duration_ms")
					clk.Advance(tt.elapsed)
					if got := stop(); got != tt.elapsed {
						t.Errorf("stop() = %v, want %v", got, tt.elapsed)
					}
				}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPut, "/", nil))
			for _, kv := range sr.Ended()[0].Attributes() {
				if kv.Key == "upload.stream_to_cloud_storage_duration_ms" {
					if kv.Value.Type() != attribute.INT64 || kv.Value.AsInt64() != tt.want {
						t.Errorf("attribute %s %v, want int64 %d", kv.Value.Type(), kv.Value.String(), tt.want)
					}
					return
				}
			}
			t.Error("attribute missing")
		})
	}
}
