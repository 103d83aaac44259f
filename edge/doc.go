// Package edge holds the pieces every cellgate service stands on: composing
// middlewares, request IDs, panic recovery, access logs that never record a
// query string, RFC 9457 problem responses, health checks, in-process service
// bindings, reverse proxying, stripping of internal headers from untrusted
// requests, a TLS version floor, security headers for pages, and a
// hardened http.Server with its graceful shutdown ([NewServer]).
//
// Everything is plain net/http: a middleware is a func(http.Handler)
// http.Handler, a handler is an http.Handler and every outbound call goes
// through an http.RoundTripper that the caller may replace. The package
// imports only the standard library.
//
// # Options and middleware shape
//
// A configurable middleware is built by a constructor that returns it and
// an error, (func(http.Handler) http.Handler, error), and never panics:
// [RequestID], [AccessLog], [Recover], [StripInternal], [SecurityHeaders],
// [TLSFloor] and [BodyIdle]. Each constructor takes options of its own type
// ([AccessLogOption], [ProxyOption], …), so an option given to a constructor
// that does not read it does not compile; an invalid value is an error that
// names the constructor and the option. Zero means the default in every
// option, and a feature on by default is turned off by an option of its own
// ([WithoutCSP], [WithoutHSTS]).
//
// The smallest useful chain for a public edge:
//
//	requestID, err := edge.RequestID()   // nothing inbound is trusted by default
//	accessLog, err := edge.AccessLog()   // one slog line per request, never the query
//	recoverer, err := edge.Recover()     // a panic becomes a 500 problem
//	strip, err := edge.StripInternal()   // no client can forge Cellgate-* headers
//	// (check each err)
//	h := edge.Chain(requestID, accessLog, recoverer, strip)(mux)
//	srv, err := edge.NewServer(h)        // header, body and connection limits
//	err = srv.Run(ctx, listener)         // until ctx ends, then a graceful shutdown
//
// Errors reach clients only through [WriteProblem], as
// application/problem+json with a stable code and the request ID.
//
// CORS is not re-implemented here: use github.com/rs/cors and put its
// Handler in the chain after [RequestID] and before anything that
// authenticates, so that preflight requests are answered without a
// signature or a session:
//
//	edge.Chain(requestID, accessLog, recoverer, cors.New(opts).Handler, auth)
package edge
