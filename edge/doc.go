// Package edge holds the pieces every cellgate service stands on: composing
// middlewares, request IDs, panic recovery, access logs that never record a
// query string, RFC 9457 problem responses, health checks, in-process service
// bindings, reverse proxying, stripping of internal headers from untrusted
// requests, a TLS version floor and security headers for pages.
//
// Everything is plain net/http: a middleware is a func(http.Handler)
// http.Handler, a handler is an http.Handler and every outbound call goes
// through an http.RoundTripper that the caller may replace. The package
// imports only the standard library.
//
// The smallest useful chain for a public edge:
//
//	h := edge.Chain(
//		edge.RequestID(),             // nothing inbound is trusted by default
//		edge.AccessLog(),             // one slog line per request, never the query
//		edge.Recover(),               // a panic becomes a 500 problem
//		edge.StripInternal(),         // no client can forge Cellgate-* headers
//	)(mux)
//
// Errors reach clients only through [WriteProblem], as
// application/problem+json with a stable code and the request ID.
//
// CORS is not re-implemented here: use github.com/rs/cors and put its
// Handler in the chain after [RequestID] and before anything that
// authenticates, so that preflight requests are answered without a
// signature or a session:
//
//	edge.Chain(edge.RequestID(), edge.AccessLog(), edge.Recover(), cors.New(opts).Handler, auth)
package edge
