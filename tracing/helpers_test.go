package tracing_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
)

// recorder returns a provider that samples everything and the recorder of
// its ended spans.
func recorder(t testing.TB) (*tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	return sr, tp
}

// newClock returns a fake clock that tests move by hand.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) }

var quiet = edge.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// attr returns the value of key on s as a string, and whether s has it.
func attr(s sdktrace.ReadOnlySpan, key string) (string, bool) {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.String(), true
		}
	}
	return "", false
}

// everything returns every string a span exports: name, status, attributes,
// events, links and their attributes.
func everything(s sdktrace.ReadOnlySpan) []string {
	out := []string{s.Name(), s.Status().Description}
	add := func(kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			out = append(out, string(kv.Key)+"="+kv.Value.String())
		}
	}
	add(s.Attributes())
	for _, e := range s.Events() {
		out = append(out, e.Name)
		add(e.Attributes)
	}
	for _, l := range s.Links() {
		add(l.Attributes)
	}
	for _, kv := range s.Resource().Attributes() {
		out = append(out, kv.Value.String())
	}
	return out
}

// assertNoSecret fails for every exported string of spans that contains
// one of secrets.
func assertNoSecret(t *testing.T, spans []sdktrace.ReadOnlySpan, secrets ...string) {
	t.Helper()
	for _, s := range spans {
		for _, v := range everything(s) {
			for _, secret := range secrets {
				if strings.Contains(v, secret) {
					t.Errorf("span %q exports %q, which contains %q", s.Name(), v, secret)
				}
			}
		}
	}
}

var errSecret = errors.New("session store said no to token session-token-7f3a9c")

func slogString(k, v string) slog.Attr { return slog.String(k, v) }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
