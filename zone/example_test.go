package zone_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
)

// A cell router in front of two zones whose gateways run in-process.
func Example() {
	dir, err := zone.ReadStaticDirectory(strings.NewReader(`{
		"1001": {"zone": "us01", "web_base_url": "https://us01.procore.com"},
		"2002": {"zone": "us02", "web_base_url": "https://us02.procore.com"}
	}`))
	if err != nil {
		panic(err)
	}
	cache, err := zone.NewCachingDirectory(dir)
	if err != nil {
		panic(err)
	}

	// Each zone's gateway believes the company the router names, because
	// the call arrives through a binding. (A real gateway puts passport's
	// gateway middleware next, which checks the company's zone itself.)
	trusted, err := zone.DetectCompany(zone.WithTrust(edge.TrustBinding))
	if err != nil {
		panic(err)
	}
	gateway := trusted(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s serves company %s", r.Header.Get(zone.HeaderZone), zone.CompanyFromContext(r.Context()))
		}))
	router, err := zone.NewRouter(map[string]zone.Endpoint{
		"us01": {Transport: edge.Binding(gateway)},
		"us02": {Transport: edge.Binding(gateway)},
	})
	if err != nil {
		panic(err)
	}

	detect, err := zone.DetectCompany()
	if err != nil {
		panic(err)
	}
	resolve, err := zone.Resolve(cache)
	if err != nil {
		panic(err)
	}
	baseURL, err := zone.NewBaseURLHandler(cache)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /rest/v1.0/company_base_url", detect(baseURL))
	mux.Handle("/", edge.Chain(detect, resolve)(router))
	requestID, err := edge.RequestID()
	if err != nil {
		panic(err)
	}
	strip, err := edge.StripInternal()
	if err != nil {
		panic(err)
	}
	h := edge.Chain(requestID, strip)(mux)

	for _, target := range []string{
		"/rest/v1.0/companies/2002/projects",
		"/rest/v1.0/company_base_url?company_id=1001",
		"/rest/v1.0/projects?company_id=3003",
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("Cellgate-Company-Id", "1001") // forged: never believed
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != http.StatusOK {
			body = []byte(rec.Header().Get("Content-Type"))
		}
		fmt.Println(rec.Code, strings.TrimSpace(string(body)))
	}
	// Output:
	// 200 us02 serves company 2002
	// 200 {"zone":"us01","web_base_url":"https://us01.procore.com"}
	// 404 application/problem+json
}
