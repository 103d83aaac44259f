package experiment_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cellgate/cellgate/zone/experiment"
)

// A nil Set (a constructor's error ignored) refuses every request with 500
// internal_error rather than panic on the first with variants.
func TestNilSetRefuses(t *testing.T) {
	h := (*experiment.Set)(nil).Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("served") }))
	for _, hdr := range []string{"", "layout=classic"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if hdr != "" {
			r.Header.Set(experiment.Header, hdr)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusInternalServerError {
			t.Errorf("header %q: %d, want 500", hdr, w.Code)
		}
	}
}
