package tracing_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/tracing"
)

func TestTransportURLFull(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"https://storage.example.com/b/o.bin", "https://storage.example.com/b/o.bin"},
		{s3Presigned, "https://bucket.s3.amazonaws.com/u1.bin"},
		{azurePresigned, "https://acct.blob.core.windows.net/files/u1.bin"},
		{"https://storage.googleapis.com/b/o?X-Goog-Signature=abc&X-Goog-Credential=svc", "https://storage.googleapis.com/b/o"},
		{"http://user:pass@fus.internal/x?token=t#frag", "http://fus.internal/x"},
		{"http://fus.internal/x?", "http://fus.internal/x"},
		{"http://fus.internal/a%2Fb/c", "http://fus.internal/a%2Fb/c"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			sr, tp := recorder(t)
			var sent string
			rt := must.Build(tracing.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
				sent = r.URL.String()
				return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
			}), tracing.WithTracerProvider(tp)))
			req, err := http.NewRequest(http.MethodPut, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()

			if sent != tt.url {
				t.Errorf("sent %q, want the request unchanged: %q", sent, tt.url)
			}
			spans := sr.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			if got, _ := attr(spans[0], "url.full"); got != tt.want {
				t.Errorf("url.full = %q, want %q", got, tt.want)
			}
			assertNoSecret(t, spans, "Signature", "sig=", "token", "pass", "frag", "?")
		})
	}
}

// An error that quotes the URL becomes the span status: the query is cut
// from its text, and from nothing else.
func TestTransportErrorRedacted(t *testing.T) {
	sr, tp := recorder(t)
	rt := must.Build(tracing.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, &url.Error{Op: "Put", URL: r.URL.String(), Err: syscall.ECONNREFUSED}
	}), tracing.WithTracerProvider(tp)))
	req, _ := http.NewRequest(http.MethodPut, s3Presigned, nil)

	_, err := rt.RoundTrip(req)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err = %v, want ECONNREFUSED through the redaction", err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Errorf("errors.As(*url.Error) fails on %T", err)
	}
	if strings.Contains(err.Error(), "X-Amz-Signature") || !strings.Contains(err.Error(), "bucket.s3.amazonaws.com/u1.bin?REDACTED") {
		t.Errorf("err text %q, want the query replaced by REDACTED", err)
	}
	s := sr.Ended()[0]
	if s.Status().Code != codes.Error {
		t.Errorf("status %v, want Error", s.Status())
	}
	assertNoSecret(t, sr.Ended(), "X-Amz", "5e1f00d4c0ffee")
}

func TestTransportPropagates(t *testing.T) {
	sr, tp := recorder(t)
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()

	// nil base: http.DefaultTransport over a real connection.
	client := &http.Client{Transport: must.Build(tracing.Transport(nil, tracing.WithTracerProvider(tp)))}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/x", nil)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()

	if req.Header.Get("Traceparent") != "" {
		t.Error("the caller's request was modified")
	}
	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1 (the body was closed)", len(spans))
	}
	sc := spans[0].SpanContext()
	want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"
	if got.Get("Traceparent") != want {
		t.Errorf("server got traceparent %q, want %q", got.Get("Traceparent"), want)
	}
	if code, _ := attr(spans[0], "http.response.status_code"); code != "200" {
		t.Errorf("status code attribute %q", code)
	}
}

// A request built by hand may have no header map; injecting into it must
// not panic, with or without a recording provider.
func TestTransportNilHeader(t *testing.T) {
	_, tp := recorder(t)
	for name, provider := range map[string]tracing.TransportOption{
		"recording": tracing.WithTracerProvider(tp),
		"noop":      tracing.WithTracerProvider(noop.NewTracerProvider()),
	} {
		t.Run(name, func(t *testing.T) {
			var sent http.Header
			rt := must.Build(tracing.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
				sent = r.Header
				return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
			}), provider))
			ctx, span := tp.Tracer("test").Start(t.Context(), "parent")
			defer span.End()
			u, _ := url.Parse("http://fus.internal/x")
			req := (&http.Request{Method: http.MethodGet, URL: u}).WithContext(ctx)
			res, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if !strings.Contains(sent.Get("Traceparent"), span.SpanContext().TraceID().String()) {
				t.Errorf("sent traceparent %q, want trace %s", sent.Get("Traceparent"), span.SpanContext().TraceID())
			}
			if req.Header != nil {
				t.Error("the caller's request was modified")
			}
		})
	}
}
