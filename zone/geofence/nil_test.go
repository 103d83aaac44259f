package geofence_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/geofence"
)

// A nil Fence or Residency (a constructor's error ignored) refuses every
// request with 500 internal_error: it neither panics nor serves unchecked.
func TestNilComponentsRefuse(t *testing.T) {
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("served unchecked") })
	for name, h := range map[string]http.Handler{
		"fence":     (*geofence.Fence)(nil).Middleware(next),
		"residency": (*geofence.Residency)(nil).Middleware(next),
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r = r.WithContext(zone.ContextWithZone(zone.ContextWithCompany(r.Context(), "4"), zone.Zone{Name: "uk01"}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusInternalServerError {
			t.Errorf("%s: %d, want 500", name, w.Code)
		}
	}
}

// NewFence keeps its own copy of DefaultCountryHeaders.
func TestFenceCopiesDefaultHeaders(t *testing.T) {
	saved := append([]string(nil), geofence.DefaultCountryHeaders...)
	defer func() { copy(geofence.DefaultCountryHeaders, saved) }()
	pol, err := geofence.NewStaticPolicies(map[string]geofence.PolicyConfig{"4": {AllowCountries: []string{"GB"}}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := geofence.NewFence(pol, geofence.WithTrust(func(*http.Request) bool { return true }))
	if err != nil {
		t.Fatal(err)
	}
	geofence.DefaultCountryHeaders[0] = "X-Client-Says"
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("CF-IPCountry", "GB")
	if _, c := f.Locate(r); c.String() != "GB" {
		t.Errorf("after DefaultCountryHeaders changed, the fence read %q", c)
	}
}
