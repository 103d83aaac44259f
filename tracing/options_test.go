package tracing_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/tracing"
)

func panicOf(f func()) (msg string) {
	defer func() {
		if v := recover(); v != nil {
			msg = fmt.Sprint(v)
		}
	}()
	f()
	return ""
}

// TestOptionsChecked: Transport and Middleware refuse, at construction, an
// option they do not read, naming both.
func TestOptionsChecked(t *testing.T) {
	for _, tt := range []struct {
		ctor string
		opt  tracing.Option
		make func(tracing.Option)
	}{
		{"Transport", tracing.Root(), func(o tracing.Option) { tracing.Transport(nil, o) }},
		{"Transport", tracing.WithClock(time.Now), func(o tracing.Option) { tracing.Transport(nil, o) }},
		{"Transport", tracing.WithTrust(edge.TrustNone), func(o tracing.Option) { tracing.Transport(nil, o) }},
		{"Middleware", tracing.WithTrust(edge.TrustNone), func(o tracing.Option) { tracing.Middleware("svc", o) }},
	} {
		msg := panicOf(func() { tt.make(tt.opt) })
		if !strings.Contains(msg, tt.ctor) || !strings.Contains(msg, tt.opt.Name()) {
			t.Errorf("%s(%s): panic %q, want one naming both", tt.ctor, tt.opt.Name(), msg)
		}
	}
	if msg := panicOf(func() {
		tracing.Middleware("svc", tracing.Root(), tracing.WithTrust(edge.TrustNone), tracing.WithClock(time.Now), tracing.WithTracerProvider(nil))
		tracing.Transport(http.DefaultTransport, tracing.WithTracerProvider(nil))
	}); msg != "" {
		t.Errorf("options refused: %s", msg)
	}
}
