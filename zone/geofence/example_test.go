package geofence_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/geofence"
)

// A uk company may be served only by uk zones, and only to clients in the
// UK; the CDN in front (trusted by its address) names the client's country.
func Example() {
	dir, _ := zone.NewStaticDirectory(map[string]zone.Zone{
		"3": {Name: "uk01", WebBaseURL: "https://uk01.example.com", Residency: "uk"},
		"7": {Name: "us01", WebBaseURL: "https://us01.example.com", Residency: "uk"}, // a mistaken entry
	})
	res, _ := geofence.NewResidency(map[string]geofence.Region{"uk01": "uk", "us01": "us"})
	policies, _ := geofence.NewStaticPolicies(map[string]geofence.PolicyConfig{"3": {AllowCountries: []string{"GB"}}})
	fromCDN, _ := edge.TrustNetworks("198.51.100.0/24")
	fence, _ := geofence.NewFence(policies, geofence.WithTrust(fromCDN))

	cell := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		country, _ := geofence.CountryFromContext(r.Context())
		fmt.Fprintf(w, "served from %s to a client in %s", zone.CompanyFromContext(r.Context()), country)
	})
	detect, err := zone.DetectCompany()
	if err != nil {
		panic(err)
	}
	resolve, err := zone.Resolve(res.Directory(dir))
	if err != nil {
		panic(err)
	}
	h := edge.Chain(detect, resolve, res.Middleware, fence.Middleware)(cell)

	get := func(company, from, country string) {
		r := httptest.NewRequest(http.MethodGet, "/projects", nil)
		r.RemoteAddr = from + ":4000"
		r.Header.Set("Procore-Company-Id", company)
		r.Header.Set("CF-IPCountry", country)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	get("3", "198.51.100.7", "GB") // the CDN says GB
	get("3", "198.51.100.7", "FR") // the CDN says FR
	get("3", "203.0.113.9", "GB")  // a client says GB itself: not believed
	get("7", "198.51.100.7", "GB") // the directory put a uk company in us01
	// Output:
	// 200 served from 3 to a client in GB
	// 403 {"type":"urn:cellgate:problem:location_denied","title":"Forbidden","status":403,"detail":"Access is not available from your location.","code":"location_denied"}
	// 403 {"type":"urn:cellgate:problem:location_denied","title":"Forbidden","status":403,"detail":"Access is not available from your location.","code":"location_denied"}
	// 503 {"type":"urn:cellgate:problem:residency_mismatch","title":"Service Unavailable","status":503,"detail":"The company cannot be served from here. Please contact support.","code":"residency_mismatch"}
}
