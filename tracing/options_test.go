package tracing_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
	"github.com/cellgate/cellgate/tracing"
)

// TestOptionsInvalid: a nil option, the zero value of a shared option type
// and WithTrust without Root are construction errors naming the
// constructor; nothing panics.
func TestOptionsInvalid(t *testing.T) {
	for _, tt := range []struct {
		ctor, what string
		err        error
	}{
		{"Middleware", "WithTrust", second(tracing.Middleware("svc", tracing.WithTrust(edge.TrustNone)))},
		{"Middleware", "zero Option", second(tracing.Middleware("svc", nil))},
		{"Middleware", "zero Option", second(tracing.Middleware("svc", tracing.TracerProviderOption{}))},
		{"Transport", "zero Option", second(tracing.Transport(nil, tracing.MeterProviderOption{}))},
		{"NewInstruments", "zero Option", second(tracing.NewInstruments(nil))},
	} {
		if tt.err == nil || !strings.Contains(tt.err.Error(), "tracing: "+tt.ctor) || !strings.Contains(tt.err.Error(), tt.what) {
			t.Errorf("%s(%s) = %v, want an error naming both", tt.ctor, tt.what, tt.err)
		}
	}
	if _, err := tracing.Middleware("svc", tracing.Root(), tracing.WithTrust(edge.TrustNone), tracing.WithClock(time.Now),
		tracing.WithTracerProvider(nil), tracing.WithMeterProvider(nil)); err != nil {
		t.Error(err)
	}
	if _, err := tracing.Transport(nil, tracing.WithTracerProvider(nil), tracing.WithMeterProvider(nil)); err != nil {
		t.Error(err)
	}
}

// TestOptionsMisplaced: an option a constructor does not read is a compile
// error.
func TestOptionsMisplaced(t *testing.T) {
	program := func(call string) string {
		return `package main

import (
	"net/http"
	"time"

	"github.com/cellgate/cellgate/tracing"
)

var _ = time.Now
var _ http.Handler

func main() { _, _ = ` + call + ` }
`
	}
	for _, tt := range []struct{ ok, misuse, want string }{
		{`tracing.Middleware("svc", tracing.Root())`, `tracing.Transport(nil, tracing.Root())`,
			`tracing.Root\(\) \(value of interface type tracing.MiddlewareOption\) as tracing.TransportOption value`},
		{`tracing.Middleware("svc", tracing.WithClock(time.Now))`, `tracing.NewInstruments(tracing.WithClock(time.Now))`,
			`as tracing.InstrumentsOption value`},
		{`tracing.Transport(nil, tracing.WithTracerProvider(nil))`, `tracing.NewInstruments(tracing.WithTracerProvider(nil))`,
			`tracing.TracerProviderOption does not implement tracing.InstrumentsOption`},
	} {
		compilecheck.Fails(t, program(tt.ok), program(tt.misuse), regexp.MustCompile(tt.want))
	}
}

// second returns the error of a constructor's result.
func second[T any](_ T, err error) error { return err }
