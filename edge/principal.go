package edge

import (
	"context"
	"net/http"
)

var principalKey = NewKey[string]("edge.principal")

// ContextWithPrincipal returns a copy of ctx naming who the request acts
// as: an identity that a stage authenticated, such as "session:<id>" set by
// passport's gateway and cell middlewares. Policies that must not be
// steered by what a client merely claims (rate limits) key on it.
func ContextWithPrincipal(ctx context.Context, principal string) context.Context {
	return principalKey.With(ctx, principal)
}

// RequestWithPrincipal returns r naming principal for
// [PrincipalFromContext], as r.WithContext(ContextWithPrincipal(r.Context(),
// principal)) would, but for a request that a chain of middlewares hands
// on: it stores the principal with [Key.Attach], usually in place and
// without allocating (the caller's r then names it too). Middlewares use
// it; tests and work outside a request use [ContextWithPrincipal].
func RequestWithPrincipal(r *http.Request, principal string) *http.Request {
	return principalKey.Attach(r, principal)
}

// PrincipalFromContext returns the authenticated principal of ctx, or ""
// for an anonymous request.
func PrincipalFromContext(ctx context.Context) string { return principalKey.Value(ctx) }
