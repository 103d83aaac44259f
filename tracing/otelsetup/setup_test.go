package otelsetup_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/tracing/otelsetup"
)

// setupEnv clears every OTEL_* variable, sets env, and restores the globals
// that Setup replaces when the test ends. Tests using it cannot be parallel.
func setupEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Cleanup(func() {
		otel.SetTracerProvider(noop.NewTracerProvider())
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	})
}

// serveOnce sends one request through a Middleware that uses the global
// provider, the way a service wired with Setup does.
func serveOnce(t *testing.T) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /setup/{id}", ok)
	span, err := tracing.Middleware("svc")
	if err != nil {
		t.Fatal(err)
	}
	span(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/setup/1", nil))
}

func TestSetupNothingConfigured(t *testing.T) {
	setupEnv(t, nil)
	otel.SetTracerProvider(noop.NewTracerProvider())
	before := otel.GetTracerProvider()

	shutdown, err := otelsetup.Setup(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if otel.GetTracerProvider() != before {
		t.Errorf("Setup installed %T with nothing to export to", otel.GetTracerProvider())
	}
	if err := shutdown(t.Context()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	// The propagator is installed all the same.
	if f := otel.GetTextMapPropagator().Fields(); !strings.Contains(strings.Join(f, ","), "traceparent") {
		t.Errorf("propagator fields %v, want W3C trace context", f)
	}
}

func TestSetupConsole(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		opts []otelsetup.SetupOption
		want []string
	}{
		{"option names the service", nil, []otelsetup.SetupOption{otelsetup.WithServiceName("router")},
			[]string{`"Name":"GET /setup/{id}"`, `"Value":"router"`}},
		{"environment wins", map[string]string{"OTEL_SERVICE_NAME": "router-eu", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=staging"},
			[]otelsetup.SetupOption{otelsetup.WithServiceName("router")},
			[]string{`"Value":"router-eu"`, `"Value":"staging"`}},
		{"no name", nil, nil, []string{`"Value":"unknown_service:`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setupEnv(t, tt.env)
			var buf bytes.Buffer
			shutdown, err := otelsetup.Setup(t.Context(), append(tt.opts, otelsetup.WithConsole(&buf))...)
			if err != nil {
				t.Fatal(err)
			}
			serveOnce(t)
			if err := shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.want {
				if !strings.Contains(buf.String(), want) {
					t.Errorf("console output lacks %s:\n%s", want, buf.String())
				}
			}
			if strings.Contains(buf.String(), `"Value":"router"`) && tt.env["OTEL_SERVICE_NAME"] != "" {
				t.Error("WithServiceName overrode OTEL_SERVICE_NAME")
			}
		})
	}
}

func TestSetupSampler(t *testing.T) {
	tests := []struct {
		sampler, arg string
		want         bool // the span is exported
	}{
		{"", "", true},
		{"always_off", "", false},
		{"parentbased_always_off", "", false},
		{"traceidratio", "0", false},
		{"parentbased_traceidratio", "1", true},
		{"ALWAYS_ON", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.sampler+"/"+tt.arg, func(t *testing.T) {
			setupEnv(t, map[string]string{"OTEL_TRACES_SAMPLER": tt.sampler, "OTEL_TRACES_SAMPLER_ARG": tt.arg})
			var buf bytes.Buffer
			shutdown, err := otelsetup.Setup(t.Context(), otelsetup.WithConsole(&buf))
			if err != nil {
				t.Fatal(err)
			}
			serveOnce(t)
			_ = shutdown(t.Context())
			if got := buf.Len() > 0; got != tt.want {
				t.Errorf("exported %v, want %v", got, tt.want)
			}
		})
	}
}

// The OTLP exporter is real: it posts protobuf to the configured endpoint
// when the provider shuts down.
func TestSetupOTLP(t *testing.T) {
	var (
		mu   sync.Mutex
		got  []string
		body []byte
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
		body = append(body, b...)
		mu.Unlock()
	}))
	defer collector.Close()

	for name, env := range map[string]map[string]string{
		"endpoint alone":   {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL},
		"named, with http": {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": collector.URL + "/v1/traces", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
	} {
		t.Run(name, func(t *testing.T) {
			mu.Lock()
			got, body = nil, nil
			mu.Unlock()
			setupEnv(t, env)
			shutdown, err := otelsetup.Setup(t.Context(), otelsetup.WithServiceName("gateway"))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); !ok {
				t.Fatalf("global provider %T, want the SDK's", otel.GetTracerProvider())
			}
			serveOnce(t)
			if err := shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) == 0 || got[0] != "POST /v1/traces application/x-protobuf" {
				t.Fatalf("collector got %q", got)
			}
			for _, want := range []string{"GET /setup/{id}", "gateway"} {
				if !bytes.Contains(body, []byte(want)) {
					t.Errorf("export lacks %q", want)
				}
			}
		})
	}
}

func TestSetupRefusesBadConfiguration(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"unknown exporter":   {"OTEL_TRACES_EXPORTER": "otlp,zipkin"},
		"unknown sampler":    {"OTEL_TRACES_SAMPLER": "sometimes"},
		"ratio above one":    {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
		"ratio not a number": {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"},
		"grpc":               {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		"grpc for traces":    {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"},
		"bad resource":       {"OTEL_TRACES_EXPORTER": "console", "OTEL_RESOURCE_ATTRIBUTES": "no-equals-sign"},
	} {
		t.Run(name, func(t *testing.T) {
			setupEnv(t, env)
			otel.SetTracerProvider(noop.NewTracerProvider())
			otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
			before := otel.GetTracerProvider()
			shutdown, err := otelsetup.Setup(t.Context())
			if err == nil {
				_ = shutdown(context.Background())
				t.Fatal("Setup accepted it")
			}
			if !strings.HasPrefix(err.Error(), "otelsetup: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if otel.GetTracerProvider() != before || len(otel.GetTextMapPropagator().Fields()) != 0 {
				t.Error("a provider or propagator was installed despite the error")
			}
		})
	}
}

func TestSetupDisabledOrNone(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"disabled": {"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
		"none":     {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
	} {
		t.Run(name, func(t *testing.T) {
			setupEnv(t, env)
			otel.SetTracerProvider(noop.NewTracerProvider())
			before := otel.GetTracerProvider()
			shutdown, err := otelsetup.Setup(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer shutdown(t.Context())
			if otel.GetTracerProvider() != before {
				t.Errorf("Setup installed %T", otel.GetTracerProvider())
			}
		})
	}
}

func ok(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }

func TestSetupRefusesBadOption(t *testing.T) {
	setupEnv(t, nil)
	for _, o := range []otelsetup.SetupOption{nil, otelsetup.ServiceNameOption{}} {
		if _, err := otelsetup.Setup(t.Context(), o); err == nil || !strings.Contains(err.Error(), "otelsetup: Setup: zero Option") {
			t.Errorf("Setup(%#v) = %v", o, err)
		}
	}
	// Zero means the default: no console, the default service name.
	shutdown, err := otelsetup.Setup(t.Context(), otelsetup.WithConsole(nil), otelsetup.WithServiceName(""))
	if err != nil {
		t.Fatal(err)
	}
	_ = shutdown(t.Context())
}

// TestOptionsMisplaced: an option of SetupMetrics given to Setup, or the
// other way round, is a compile error.
func TestOptionsMisplaced(t *testing.T) {
	program := func(call string) string {
		return `package main

import (
	"context"
	"os"

	"github.com/cellgate/cellgate/tracing/otelsetup"
)

var _ = os.Stdout

func main() { _, _ = ` + call + ` }
`
	}
	for _, tt := range []struct{ ok, misuse, want string }{
		{`otelsetup.SetupMetrics(context.Background(), otelsetup.WithPrometheus())`,
			`otelsetup.Setup(context.Background(), otelsetup.WithPrometheus())`, `as otelsetup.SetupOption value`},
		{`otelsetup.Setup(context.Background(), otelsetup.WithConsole(os.Stdout))`,
			`otelsetup.SetupMetrics(context.Background(), otelsetup.WithConsole(os.Stdout))`, `as otelsetup.MetricsOption value`},
	} {
		compilecheck.Fails(t, program(tt.ok), program(tt.misuse), regexp.MustCompile(tt.want))
	}
}
