package hmacsig

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/cellgate/cellgate/edge"
)

var keyIDKey = edge.NewKey[string]("hmacsig.key_id")

// KeyIDFromContext returns the name of the key that verified the request in
// [Require]: the URL's kid for a key of Keys.ByID, "current" or "previous"
// for the unnamed keys (so logs show when Previous can be retired), and ""
// when the request was not verified.
func KeyIDFromContext(ctx context.Context) string { return keyIDKey.Value(ctx) }

// ContextWithKeyID returns a copy of ctx carrying kid as the key that
// verified the request, for tests of handlers behind [Require].
func ContextWithKeyID(ctx context.Context, kid string) context.Context {
	return keyIDKey.With(ctx, kid)
}

// Require is a middleware that lets through only requests whose URL
// signature v verifies, and answers every other request with a 403 problem
// whose code is that of the failure (signature_malformed, signature_missing,
// signature_expired, signature_lifetime_too_long, signature_mismatch).
// A verified request carries the key's name (see [KeyIDFromContext]), which is
// also added to its access log line as key_id.
//
// Put Require before anything that reads the body: a rejected client then
// never sends it (100 Continue is only sent on the first read).
//
// Require panics when v is nil, at wiring time, never at request time.
func Require(v *Verifier) func(http.Handler) http.Handler {
	if v == nil {
		panic("hmacsig: Require: nil Verifier")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kid, err := v.verify(r)
			v.observe(r.Context(), err)
			if err != nil {
				if v.logger != nil {
					// The path may be logged, the query never: it holds the signature.
					v.logger.LogAttrs(r.Context(), slog.LevelInfo, "signed URL rejected",
						slog.String("method", r.Method), slog.String("path", r.URL.Path),
						slog.String("error", err.Error()),
						slog.String("request_id", edge.RequestIDFromContext(r.Context())))
				}
				edge.WriteProblem(w, r, err)
				return
			}
			ctx := r.Context()
			edge.AddLogAttrs(ctx, slog.String("key_id", kid))
			next.ServeHTTP(w, r.WithContext(keyIDKey.With(ctx, kid)))
		})
	}
}
