package featureflag

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
)

var (
	us01 = zone.Zone{Name: "us01", WebBaseURL: "https://us01.procore.com"}
	us02 = zone.Zone{Name: "us02", WebBaseURL: "https://us02.procore.com"}
)

// openfeatureAPI returns a client of an isolated OpenFeature API served by
// the in-memory provider, so tests do not share the global one.
func openfeatureAPI(t *testing.T, flags map[string]memprovider.InMemoryFlag) *openfeature.Client {
	t.Helper()
	api := isolated.NewAPI()
	if err := api.SetProviderAndWait(t.Context(), memprovider.NewInMemoryProvider(flags)); err != nil {
		t.Fatal(err)
	}
	return api.NewClient()
}

// The router sends the companies a flag picks to the canary gateway.
func TestEvaluatorPicksCanary(t *testing.T) {
	onlyBeta := func(flag memprovider.InMemoryFlag, ctx openfeature.FlattenedContext) (any, openfeature.ProviderResolutionDetail) {
		on := ctx[openfeature.TargetingKey] == "7" && ctx["zone"] == "us01"
		return on, openfeature.ProviderResolutionDetail{Reason: openfeature.TargetingMatchReason}
	}
	client := openfeatureAPI(t, map[string]memprovider.InMemoryFlag{
		"canary-us01": {Key: "canary-us01", State: memprovider.Enabled, DefaultVariant: "off",
			Variants: map[string]any{"on": true, "off": false}, ContextEvaluator: &onlyBeta},
	})
	named := func(name string) zone.Endpoint {
		return zone.Endpoint{Transport: edge.Binding(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(name))
		}))}
	}
	rt, err := zone.NewRouter(map[string]zone.Endpoint{"us01": named("main")},
		zone.WithFlagEvaluator(Evaluator(client)),
		zone.WithCanary("us01", zone.Canary{Endpoint: named("canary"), Flag: "canary-us01"}))
	if err != nil {
		t.Fatal(err)
	}
	for company, want := range map[string]string{"7": "canary", "8": "main"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, req.WithContext(zone.ContextWithZone(zone.ContextWithCompany(req.Context(), company), us01)))
		if got := rec.Body.String(); got != want {
			t.Errorf("company %s went to %s, want %s", company, got, want)
		}
	}
}

func TestTargeting(t *testing.T) {
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
		z       zone.Zone
		want    bool
	}{
		{"42", us02, true},
		{"43", us02, false},
		{"42", us01, false},
	} {
		var got bool
		h := Targeting()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var err error
			got, err = client.BooleanValue(r.Context(), "new-ui", false, openfeature.EvaluationContext{})
			if err != nil {
				t.Error(err)
			}
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		ctx := edge.ContextWithRequestID(zone.ContextWithZone(zone.ContextWithCompany(req.Context(), tt.company), tt.z), "req-1")
		h.ServeHTTP(httptest.NewRecorder(), req.WithContext(ctx))
		if got != tt.want {
			t.Errorf("company %s zone %s: flag %v, want %v", tt.company, tt.z.Name, got, tt.want)
		}
	}
}

func TestEvaluationContext(t *testing.T) {
	ctx := edge.ContextWithRequestID(zone.ContextWithZone(zone.ContextWithCompany(t.Context(), "9"), us01), "r")
	ec := EvaluationContext(ctx)
	if ec.TargetingKey() != "9" || ec.Attribute("zone") != "us01" || ec.Attribute("request_id") != "r" {
		t.Fatalf("evaluation context %v", ec)
	}
}
