package zone

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

// gatewayRecorder is a gateway that says who it is and what it saw.
type gatewayRecorder struct {
	name   string
	header http.Header
	path   string
}

func (g *gatewayRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.header, g.path = r.Header.Clone(), r.URL.Path
	io.WriteString(w, g.name)
}

func routed(t *testing.T, h http.Handler, company string, z Zone, mutate func(*http.Request)) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/rest/v1.0/projects?x=1", nil)
	ctx := ContextWithZone(ContextWithCompany(req.Context(), company), z)
	req = req.WithContext(ctx)
	if mutate != nil {
		mutate(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRouterBindingStripsAndSetsInternalHeaders(t *testing.T) {
	gw := &gatewayRecorder{name: "us01"}
	rt, err := NewRouter(map[string]Endpoint{"us01": {Transport: edge.Binding(gw)}})
	if err != nil {
		t.Fatal(err)
	}
	var before http.Header
	rec := routed(t, rt, "42", us01, func(r *http.Request) {
		r.Header.Set("Cellgate-Zone", "uk01")
		r.Header.Set("Cellgate-Company-Id", "1")
		r.Header["Cellgate_Passport"] = []string{"forged"}
		r.Header["CELLGATE-ROLE"] = []string{"admin"}
		r.Header.Set("Accept", "application/json")
		before = r.Header
	})
	if rec.Code != http.StatusOK || rec.Body.String() != "us01" {
		t.Fatalf("got %d %q", rec.Code, rec.Body)
	}
	for k := range gw.header {
		if isInternalHeader(k) && k != HeaderCompany && k != HeaderZone {
			t.Errorf("forged internal header %q reached the gateway", k)
		}
	}
	if got := gw.header.Values(HeaderCompany); len(got) != 1 || got[0] != "42" {
		t.Errorf("%s = %v, want [42]", HeaderCompany, got)
	}
	if got := gw.header.Values(HeaderZone); len(got) != 1 || got[0] != "us01" {
		t.Errorf("%s = %v, want [us01]", HeaderZone, got)
	}
	if gw.header.Get("Accept") != "application/json" || gw.path != "/rest/v1.0/projects" {
		t.Errorf("request not forwarded as is: %v %q", gw.header, gw.path)
	}
	// The router is the request's last stage: it edits the header it
	// forwards in place (the proxy sends a clone), so no copy is made.
	if before.Get("Cellgate-Zone") != "us01" || before.Get("Cellgate-Company-Id") != "42" {
		t.Errorf("the forwarded header is not the inbound one, edited: %v", before)
	}
}

func TestRouterURLGateway(t *testing.T) {
	gw := &gatewayRecorder{name: "us02"}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	rt, err := NewRouter(map[string]Endpoint{"us02": {URL: srv.URL + "/base", Transport: srv.Client().Transport}})
	if err != nil {
		t.Fatal(err)
	}
	rec := routed(t, rt, "5", us02, nil)
	if rec.Code != http.StatusOK || rec.Body.String() != "us02" || gw.path != "/base/rest/v1.0/projects" {
		t.Fatalf("got %d %q path %q", rec.Code, rec.Body, gw.path)
	}
	if gw.header.Get(HeaderZone) != "us02" || gw.header.Get(HeaderCompany) != "5" {
		t.Fatalf("internal headers %v", gw.header)
	}
}

func TestRouterUnroutable(t *testing.T) {
	var buf strings.Builder
	rt, err := NewRouter(map[string]Endpoint{"us01": {Transport: edge.Binding(&gatewayRecorder{})}},
		WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	if err != nil {
		t.Fatal(err)
	}
	evil := Zone{Name: "evil", WebBaseURL: "http://169.254.169.254"}
	rec := routed(t, rt, "9", evil, nil)
	if rec.Code != http.StatusBadGateway || problemCode(t, rec) != "zone_unroutable" {
		t.Fatalf("got %d %q", rec.Code, problemCode(t, rec))
	}
	if !strings.Contains(buf.String(), "zone=evil") || !strings.Contains(buf.String(), "level=WARN") {
		t.Fatalf("not logged: %q", buf.String())
	}
	// Without a zone in the context (Resolve missing) the router refuses too.
	rec = httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if problemCode(t, rec) != "zone_unroutable" {
		t.Fatalf("no zone: %q", problemCode(t, rec))
	}
}

func TestRouterCanaryByHash(t *testing.T) {
	tests := []struct {
		percent  float64
		min, max int // of 1000 companies on the canary
	}{
		{0, 0, 0}, {100, 1000, 1000}, {25, 200, 300}, {50, 440, 560},
	}
	for _, tt := range tests {
		t.Run(strconv.FormatFloat(tt.percent, 'f', -1, 64), func(t *testing.T) {
			main, canary := &gatewayRecorder{name: "main"}, &gatewayRecorder{name: "canary"}
			rt, err := NewRouter(map[string]Endpoint{"us01": {Transport: edge.Binding(main)}},
				WithCanary("us01", Canary{Endpoint: Endpoint{Transport: edge.Binding(canary)}, Percent: tt.percent}))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for i := range 1000 {
				company := strconv.Itoa(1000 + i)
				first := routed(t, rt, company, us01, nil).Body.String()
				for range 3 {
					if again := routed(t, rt, company, us01, nil).Body.String(); again != first {
						t.Fatalf("company %s flapped: %s then %s", company, first, again)
					}
				}
				if first == "canary" {
					n++
				}
			}
			if n < tt.min || n > tt.max {
				t.Fatalf("%d of 1000 on the canary, want %d–%d", n, tt.min, tt.max)
			}
		})
	}
}

func TestRouterCanaryByFlag(t *testing.T) {
	main, canary := &gatewayRecorder{name: "main"}, &gatewayRecorder{name: "canary"}
	var asked []string
	flags := func(r *http.Request, flag string, fallback bool) bool {
		asked = append(asked, flag)
		return CompanyFromContext(r.Context()) == "7"
	}
	rt, err := NewRouter(map[string]Endpoint{"us01": {Transport: edge.Binding(main)}},
		WithFlagEvaluator(flags),
		WithCanary("us01", Canary{Endpoint: Endpoint{Transport: edge.Binding(canary)}, Flag: "canary-us01"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := routed(t, rt, "7", us01, nil).Body.String(); got != "canary" {
		t.Fatalf("company 7 went to %s", got)
	}
	if got := routed(t, rt, "8", us01, nil).Body.String(); got != "main" {
		t.Fatalf("company 8 went to %s", got)
	}
	if len(asked) != 2 || asked[0] != "canary-us01" {
		t.Fatalf("flags asked %v", asked)
	}
}

func TestNewRouterRejects(t *testing.T) {
	bind := Endpoint{Transport: edge.Binding(http.NotFoundHandler())}
	for name, tc := range map[string]struct {
		gws  map[string]Endpoint
		opts []RouterOption
	}{
		"no gateways":          {gws: nil},
		"bad zone name":        {gws: map[string]Endpoint{"US 01": bind}},
		"no URL nor transport": {gws: map[string]Endpoint{"us01": {}}},
		"relative URL":         {gws: map[string]Endpoint{"us01": {URL: "/gw"}}},
		"ftp URL":              {gws: map[string]Endpoint{"us01": {URL: "ftp://gw"}}},
		"canary without zone":  {gws: map[string]Endpoint{"us01": bind}, opts: []RouterOption{WithCanary("us02", Canary{Endpoint: bind})}},
		"canary percent":       {gws: map[string]Endpoint{"us01": bind}, opts: []RouterOption{WithCanary("us01", Canary{Endpoint: bind, Percent: 101})}},
		"canary flag, no client": {gws: map[string]Endpoint{"us01": bind},
			opts: []RouterOption{WithCanary("us01", Canary{Endpoint: bind, Flag: "f"})}},
	} {
		if _, err := NewRouter(tc.gws, tc.opts...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
