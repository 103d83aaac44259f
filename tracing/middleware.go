package tracing

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/cellgate/cellgate/edge"
)

// propagator is W3C trace context and baggage, the one otelsetup.Setup
// installs globally. Middleware and Transport use it whatever the global is,
// so a service propagates traces before, and without, Setup.
var propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(
	propagation.TraceContext{}, propagation.Baggage{})

// Middleware starts a server span for every request with otelhttp: a child of
// the inbound traceparent inside the topology, a new root with the inbound
// context as a link when Root is given. The span is named "METHOD route"
// after the ServeMux pattern (never the raw path, whose cardinality is
// unbounded), or "METHOD" when no pattern is known; see Route for chains that
// copy the request before the mux.
//
// When the handler returns, the request ID and the company, zone and problem
// that later stages added with edge.AddLogAttrs become span attributes
// (RequestIDKey, CompanyKey, ZoneKey, ProblemKey); no other collected
// attribute is copied. name is recorded as OperationKey, which tells apart
// services that share a process and a resource.
//
// otelhttp records the HTTP server metrics (http.server.request.duration
// and the like) on the meter provider of WithMeterProvider, the global one
// by default, whether or not spans are recorded. Only while neither
// provider records anything (the no-op providers, or the global ones
// before otelsetup.Setup installs an exporter) is otelhttp skipped: the
// request only takes the caller's trace context on, or at the root loses
// the client's.
//
// At the root, the forwarding headers of a request from an untrusted hop
// are removed before otelhttp sees it (see WithTrust), so client.address is
// the connection's peer, never what the client wrote.
//
// Its options are Root, WithTracerProvider, WithMeterProvider, WithClock
// and, with Root, WithTrust. WithTrust without Root, or a nil option, is an
// error.
func Middleware(name string, opts ...MiddlewareOption) (func(http.Handler) http.Handler, error) {
	c, err := newConfig("Middleware", opts, MiddlewareOption.middlewareOption)
	if err != nil {
		return nil, err
	}
	if c.trust != nil && !c.root {
		return nil, errors.New("tracing: Middleware takes option WithTrust only with Root")
	}
	oopts := []otelhttp.Option{
		otelhttp.WithSpanNameFormatter(spanName),
		otelhttp.WithPropagators(propagator),
		otelhttp.WithSpanOptions(trace.WithAttributes(OperationKey.String(name))),
	}
	if c.provider != nil {
		oopts = append(oopts, otelhttp.WithTracerProvider(c.provider))
	}
	if c.meters != nil {
		oopts = append(oopts, otelhttp.WithMeterProvider(c.meters))
	}
	if c.root {
		oopts = append(oopts,
			otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }),
			// Baggage from the internet is not ours to pass on: read only
			// the trace context, for the link.
			otelhttp.WithPropagators(propagation.TraceContext{}))
	}
	instrument := otelhttp.NewMiddleware(name, oopts...)
	return func(next http.Handler) http.Handler {
		traced, plain := instrument(annotate(c, next)), propagate(c, next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c.root && (c.trust == nil || !c.trust(r)) {
				deleteForwardingHeaders(r.Header)
			}
			if c.instrumented() {
				traced.ServeHTTP(w, r)
				return
			}
			plain.ServeHTTP(w, r)
		})
	}, nil
}

// propagate serves a request without a span, for a provider that records
// none: inside the topology the caller's trace context is passed on, so a
// service without tracing does not break the trace of the others; at the
// public edge the client's is dropped.
func propagate(c *config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		switch {
		case c.root:
			deleteTraceHeaders(r.Header)
		case r.Header["Traceparent"] != nil || r.Header["Baggage"] != nil:
			ctx = propagator.Extract(ctx, propagation.HeaderCarrier(r.Header))
		}
		if c.now != nil {
			ctx = clockKey.With(ctx, c.now)
		}
		if ctx != r.Context() {
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// annotate runs inside the otelhttp span: it finishes what Root promises,
// hands the clock to StartTimer and copies the known attributes onto the span
// once the handler is done.
func annotate(c *config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if c.root {
			ctx = dropRemoteParent(ctx)
			deleteTraceHeaders(r.Header)
		}
		if c.now != nil {
			ctx = clockKey.With(ctx, c.now)
		}
		span := trace.SpanFromContext(ctx)
		if !span.IsRecording() {
			if ctx != r.Context() {
				r = r.WithContext(ctx)
			}
			next.ServeHTTP(w, r)
			return
		}
		ctx, collected := edge.CollectAttrs(ctx)
		if ctx != r.Context() {
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
		// otelhttp renames the span from the Pattern of its own request, which
		// a mux never sees when we pass it a copy.
		if r.Pattern != "" {
			nameSpan(span, r)
		}
		span.SetAttributes(knownAttributes(ctx, w.Header(), collected())...)
	})
}

// dropRemoteParent removes a span context that came from the client. The SDK
// has already replaced it with the new root; a provider that, like the no-op
// one, hands back the context it was given would otherwise have the client's
// context injected into every outbound call as the parent.
func dropRemoteParent(ctx context.Context) context.Context {
	if trace.SpanContextFromContext(ctx).IsRemote() {
		return trace.ContextWithSpanContext(ctx, trace.SpanContext{})
	}
	return ctx
}

// deleteTraceHeaders removes the W3C headers by their canonical names, so a
// proxy behind the root cannot forward the client's trace context.
func deleteTraceHeaders(h http.Header) {
	delete(h, "Traceparent")
	delete(h, "Tracestate")
	delete(h, "Baggage")
}

// deleteForwardingHeaders removes Forwarded, X-Forwarded-* and X-Real-Ip in
// every spelling (X_Forwarded_For, x-real-ip), as edge.StripInternal does.
func deleteForwardingHeaders(h http.Header) {
	for name := range h {
		if edge.HasHeaderNamePrefix(name, "X-Forwarded-") ||
			edge.SameHeaderName(name, "Forwarded") || edge.SameHeaderName(name, "X-Real-Ip") {
			delete(h, name)
		}
	}
}

// Route names the current server span after the ServeMux pattern that next
// (the mux) routed the request to. Middleware does this by itself when it
// wraps the mux directly; a middleware in between that passes on a copy of
// the request (r.WithContext, as edge.RequestID does) hides the pattern from
// it, so put Route last in such a chain:
//
//	edge.Chain(span, requestID, tracing.Route)(mux) // span from tracing.Middleware, requestID from edge.RequestID
func Route(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if r.Pattern == "" {
			return
		}
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			nameSpan(span, r)
		}
	})
}

func nameSpan(span trace.Span, r *http.Request) {
	span.SetName(spanName("", r))
	if route := route(r.Pattern); route != "" {
		span.SetAttributes(semconv.HTTPRoute(route))
	}
}

// spanName follows the HTTP semantic conventions: "METHOD route", "METHOD"
// without a route, and "HTTP" for a method outside the standard set, which a
// client could otherwise use to mint span names.
func spanName(_ string, r *http.Request) string {
	method := r.Method
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
	default:
		method = "HTTP"
	}
	if rt := route(r.Pattern); rt != "" {
		return method + " " + rt
	}
	return method
}

// route is the path part of a ServeMux pattern: "GET api.example.com/x/{id}"
// routes "/x/{id}".
func route(pattern string) string {
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return ""
}
