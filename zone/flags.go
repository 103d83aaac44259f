package zone

import (
	"context"
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/open-feature/go-sdk/openfeature"
)

// FlagTargeting attaches an OpenFeature evaluation context to every request
// (as the SDK's transaction context), so handlers evaluate flags for the
// right customer with any provider, LaunchDarkly's among them:
//
//	client.BooleanValue(r.Context(), "new-ui", false, openfeature.EvaluationContext{})
//
// The targeting key is the company (CompanyFrom); the attributes are
// "zone" (when resolved) and "request_id". Attributes already in the
// transaction context are kept unless these replace them.
func FlagTargeting() func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			ctx = openfeature.MergeTransactionContext(ctx, EvaluationContext(ctx))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// EvaluationContext returns the OpenFeature evaluation context of the
// request whose context is ctx: the company as targeting key, the zone and
// the request ID as attributes.
func EvaluationContext(ctx context.Context) openfeature.EvaluationContext {
	attrs := make(map[string]any, 2)
	if z, ok := From(ctx); ok {
		attrs["zone"] = z.Name
	}
	if id := edge.RequestIDFrom(ctx); id != "" {
		attrs["request_id"] = id
	}
	return openfeature.NewEvaluationContext(CompanyFrom(ctx), attrs)
}
