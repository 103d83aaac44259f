// Package tracing is OpenTelemetry for a cellgate edge, built on otelhttp
// rather than hand-written instrumentation: one trace follows a request from
// the public edge through the router, the gateway and authentication to the
// cell, and from the storage host through the file upload service to cloud
// storage.
//
// It depends on the OTel API and otelhttp only; the SDK and exporter set-up
// from the standard OTEL_* variables is in the subpackage otelsetup. It owns
// the server span of every service (Middleware, with Root at the public edge,
// where the client's trace context becomes a link and never the parent), the
// outbound client spans that carry the context on (Transport, which stacks
// with edge.Binding and the edge proxy), and helpers that add attributes to
// the current span from anywhere in a handler (SetAttributes, StartTimer).
//
// No span attribute carries a query string, a presigned URL, a session
// token or a passport: otelhttp v0.72 records only the path of a server
// request and no header but User-Agent and the first X-Forwarded-For
// address, and Transport cuts the query from the url.full of client spans.
// Attributes are copied from the access log fields only when tracing knows
// them (company, zone, problem, request ID).
//
// With nothing configured (no otelsetup.Setup, or no exporter), Middleware and
// Transport skip otelhttp and only pass the trace context on, so tracing
// costs nearly nothing until it is turned on.
//
// The smallest wiring of a public edge:
//
//	shutdown, err := otelsetup.Setup(ctx, otelsetup.WithServiceName("router"))
//	if err != nil {
//		return err
//	}
//	defer shutdown(context.Background())
//
//	out, err := tracing.Transport(edge.NewTransport())
//	...
//	next, err := edge.NewProxy(target, edge.WithTransport(out))
//	...
//	span, err := tracing.Middleware("router", tracing.Root())
//	...
//	// requestID, accessLog, recover and strip from edge.RequestID(),
//	// edge.AccessLog(), edge.Recover() and edge.StripInternal().
//	h := edge.Chain(
//		span, // first: the span covers the whole chain
//		requestID,
//		accessLog,
//		recover,
//		strip,
//		tracing.Route, // last before the mux: names the span after its pattern
//	)(mux)
//
// Inside the topology, drop Root so spans continue the caller's trace.
//
// # Metrics
//
// Instruments holds cellgate's metric instruments, on the OTel metric API
// only (WithMeterProvider, the global provider by default;
// otelsetup.SetupMetrics installs one). otelhttp already records HTTP server
// and client durations; Instruments records what only cellgate knows: zone directory lookups,
// passports, signatures, uploads, rate limits and problems, with
// low-cardinality attributes (zone, outcome, problem code). zone, passport,
// hmacsig and zone/ratelimit may not import OpenTelemetry, and edge imports
// only the standard library, so each declares a small observer of standard
// types (zone.DirectoryObserver, passport.Observer, hmacsig.Observer,
// ratelimit.Observer, upload.Observer, edge.SetProblemObserver) that is
// no-op by default, and Instruments implements all of them. See
// [Instruments].
package tracing
