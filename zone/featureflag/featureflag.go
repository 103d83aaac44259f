package featureflag

import (
	"context"
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	"github.com/open-feature/go-sdk/openfeature"
)

// Targeting attaches an OpenFeature evaluation context to every request
// (as the SDK's transaction context), so handlers evaluate flags for the
// right customer with any provider, LaunchDarkly's among them:
//
//	client.BooleanValue(r.Context(), "new-ui", false, openfeature.EvaluationContext{})
//
// The targeting key is the company (zone.CompanyFromContext); the attributes are
// "zone" (when resolved) and "request_id". Attributes already in the
// transaction context are kept unless these replace them.
func Targeting() func(http.Handler) http.Handler {
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
	if z, ok := zone.ZoneFromContext(ctx); ok {
		attrs["zone"] = z.Name
	}
	if id := edge.RequestIDFromContext(ctx); id != "" {
		attrs["request_id"] = id
	}
	return openfeature.NewEvaluationContext(zone.CompanyFromContext(ctx), attrs)
}

// Evaluator returns the zone.FlagFunc that evaluates a canary's boolean
// flag (zone.Canary.Flag) with client, for zone.WithFlagEvaluator: the
// request's EvaluationContext is the targeting, and fallback is the answer
// when the flag cannot be evaluated.
func Evaluator(client *openfeature.Client) zone.FlagFunc {
	return func(r *http.Request, flag string, fallback bool) bool {
		ctx := r.Context()
		v, _ := client.BooleanValue(ctx, flag, fallback, EvaluationContext(ctx))
		return v
	}
}
