package zone

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
)

func isolatedAPI() *openfeature.EvaluationAPI { return isolated.NewAPI() }

func TestFlagTargeting(t *testing.T) {
	byCompany := func(flag memprovider.InMemoryFlag, ctx openfeature.FlattenedContext) (any, openfeature.ProviderResolutionDetail) {
		v := ctx[openfeature.TargetingKey] == "42" && ctx["zone"] == "us02" && ctx["request_id"] == "req-1"
		return v, openfeature.ProviderResolutionDetail{Reason: openfeature.TargetingMatchReason}
	}
	client := openfeatureAPI(t, map[string]memprovider.InMemoryFlag{
		"new-ui": {Key: "new-ui", State: memprovider.Enabled, DefaultVariant: "off",
			Variants: map[string]any{"on": true, "off": false}, ContextEvaluator: &byCompany},
	})
	for _, tt := range []struct {
		company string
		z       Zone
		want    bool
	}{
		{"42", us02, true},
		{"43", us02, false},
		{"42", us01, false},
	} {
		var got bool
		h := FlagTargeting()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var err error
			got, err = client.BooleanValue(r.Context(), "new-ui", false, openfeature.EvaluationContext{})
			if err != nil {
				t.Error(err)
			}
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		ctx := edge.WithRequestID(With(WithCompany(req.Context(), tt.company), tt.z), "req-1")
		h.ServeHTTP(httptest.NewRecorder(), req.WithContext(ctx))
		if got != tt.want {
			t.Errorf("company %s zone %s: flag %v, want %v", tt.company, tt.z.Name, got, tt.want)
		}
	}
}

func TestEvaluationContext(t *testing.T) {
	ctx := edge.WithRequestID(With(WithCompany(t.Context(), "9"), us01), "r")
	ec := EvaluationContext(ctx)
	if ec.TargetingKey() != "9" || ec.Attribute("zone") != "us01" || ec.Attribute("request_id") != "r" {
		t.Fatalf("evaluation context %v", ec)
	}
}
