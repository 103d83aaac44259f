package tracing

import (
	"net/http"
	"net/url"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Transport wraps base (http.DefaultTransport when nil) with otelhttp: every
// request gets a client span, a child of the span in its context, and carries
// the trace context to the next service in traceparent. It stacks with the
// other RoundTrippers, edge.Binding and edge.Outbound included.
//
// otelhttp records the whole URL in url.full, query included, and has no
// option to redact it; a query here may be a presigned storage credential or
// a URL signature. So Transport overwrites url.full with the URL cut before
// its query (the request itself is sent unchanged), and an error whose text
// quotes the query has it replaced by "REDACTED", since the error text
// becomes the span status.
//
// The RoundTripper returned unwraps to base (Unwrap() http.RoundTripper).
//
// HTTP client metrics (http.client.request.duration and the like) are
// recorded on the meter provider of WithMeterProvider, the global one by
// default, with or without spans.
//
// Its options are WithTracerProvider and WithMeterProvider; a nil option
// is an error.
func Transport(base http.RoundTripper, opts ...TransportOption) (http.RoundTripper, error) {
	c, err := newConfig("Transport", opts, TransportOption.transportOption)
	if err != nil {
		return nil, err
	}
	if base == nil {
		base = http.DefaultTransport
	}
	oopts := []otelhttp.Option{otelhttp.WithPropagators(propagator)}
	if c.provider != nil {
		oopts = append(oopts, otelhttp.WithTracerProvider(c.provider))
	}
	if c.meters != nil {
		oopts = append(oopts, otelhttp.WithMeterProvider(c.meters))
	}
	plain := redactingTransport{base}
	return &transport{c: c, traced: otelhttp.NewTransport(plain, oopts...), plain: plain, base: base}, nil
}

type transport struct {
	c      *config
	traced http.RoundTripper // otelhttp over plain
	plain  http.RoundTripper
	base   http.RoundTripper // what Transport was given
}

// Unwrap returns the base RoundTripper, so a caller can see through the
// tracing to the transport it wraps (edge.NewProxy finds an
// http.Transport's own response-header timeout this way).
func (t *transport) Unwrap() http.RoundTripper { return t.base }

// RoundTrip implements http.RoundTripper. When neither provider records
// anything it only injects the trace context, as otelhttp would, on a copy
// of the request.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header == nil {
		// Injecting into a nil header would panic; http.Client never sends
		// one, a direct caller may.
		r = r.WithContext(r.Context())
		r.Header = make(http.Header)
	}
	if t.c.instrumented() {
		return t.traced.RoundTrip(r)
	}
	ctx := r.Context()
	if !trace.SpanContextFromContext(ctx).IsValid() && baggage.FromContext(ctx).Len() == 0 {
		return t.plain.RoundTrip(r)
	}
	out := r.WithContext(ctx) // a RoundTripper must not modify the caller's request
	out.Header = r.Header.Clone()
	propagator.Inject(ctx, propagation.HeaderCarrier(out.Header))
	return t.plain.RoundTrip(out)
}

// redactingTransport runs inside the otelhttp client span, after otelhttp has
// set url.full: setting the same key again replaces the value before the span
// ends, and only ended spans are exported.
type redactingTransport struct{ base http.RoundTripper }

func (t redactingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	span := trace.SpanFromContext(r.Context())
	if span.IsRecording() && hasSecretPart(r.URL) {
		span.SetAttributes(semconv.URLFull(redactedURL(r.URL)))
	}
	res, err := t.base.RoundTrip(r)
	if err != nil && r.URL.RawQuery != "" && strings.Contains(err.Error(), r.URL.RawQuery) {
		err = &redactedError{err: err, query: r.URL.RawQuery}
	}
	return res, err
}

func hasSecretPart(u *url.URL) bool {
	return u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil
}

// redactedURL is u without user info, query or fragment.
func redactedURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	c.Fragment = ""
	c.RawFragment = ""
	return c.String()
}

// redactedError hides the query string from the text of err, and from
// nothing else: errors.Is and errors.As see err.
type redactedError struct {
	err   error
	query string
}

func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.query, "REDACTED")
}

func (e *redactedError) Unwrap() error { return e.err }
