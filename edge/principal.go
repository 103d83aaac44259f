package edge

import "context"

var principalKey = NewKey[string]("edge.principal")

// ContextWithPrincipal returns a copy of ctx naming who the request acts
// as: an identity that a stage authenticated, such as "session:<id>" set by
// passport's gateway and cell middlewares. Policies that must not be
// steered by what a client merely claims (rate limits) key on it.
func ContextWithPrincipal(ctx context.Context, principal string) context.Context {
	return principalKey.With(ctx, principal)
}

// PrincipalFromContext returns the authenticated principal of ctx, or ""
// for an anonymous request.
func PrincipalFromContext(ctx context.Context) string { return principalKey.Value(ctx) }
