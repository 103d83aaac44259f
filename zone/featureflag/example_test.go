package featureflag_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/featureflag"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
)

// A handler behind Targeting evaluates flags for the request's company
// without building an evaluation context itself.
func ExampleTargeting() {
	onlyCompany42 := func(_ memprovider.InMemoryFlag, ec openfeature.FlattenedContext) (any, openfeature.ProviderResolutionDetail) {
		return ec[openfeature.TargetingKey] == "42", openfeature.ProviderResolutionDetail{Reason: openfeature.TargetingMatchReason}
	}
	api := isolated.NewAPI()
	_ = api.SetProviderAndWait(context.Background(), memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{
		"new-ui": {Key: "new-ui", State: memprovider.Enabled, DefaultVariant: "off",
			Variants: map[string]any{"on": true, "off": false}, ContextEvaluator: &onlyCompany42},
	}))
	client := api.NewClient()

	h := featureflag.Targeting()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		on, _ := client.BooleanValue(r.Context(), "new-ui", false, openfeature.EvaluationContext{})
		fmt.Println(zone.CompanyFromContext(r.Context()), on)
	}))
	for _, company := range []string{"42", "43"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		h.ServeHTTP(httptest.NewRecorder(), r.WithContext(zone.ContextWithCompany(r.Context(), company)))
	}
	// Output:
	// 42 true
	// 43 false
}
