package edge

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Every 502/503/504 the edge originates tells the client when to retry; an
// explicit Retry-After is kept, and other statuses get none.
func TestWriteProblemRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		status   int
		explicit string
		want     string
	}{
		{http.StatusBadGateway, "", DefaultRetryAfter},
		{http.StatusServiceUnavailable, "", DefaultRetryAfter},
		{http.StatusGatewayTimeout, "", DefaultRetryAfter},
		{http.StatusServiceUnavailable, "7", "7"},
		{http.StatusInternalServerError, "", ""},
		{http.StatusBadRequest, "", ""},
		{499, "", ""},
	} {
		w := httptest.NewRecorder()
		if tc.explicit != "" {
			w.Header().Set("Retry-After", tc.explicit)
		}
		WriteProblem(w, httptest.NewRequest("GET", "/", nil), NewProblem(tc.status, "x", ""))
		if got := w.Header().Get("Retry-After"); got != tc.want || w.Code != tc.status {
			t.Errorf("status %d explicit %q: got %d Retry-After %q, want %q", tc.status, tc.explicit, w.Code, got, tc.want)
		}
	}
}
