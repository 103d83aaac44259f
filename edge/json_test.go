package edge_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

// TestWriteJSONNoHTMLEscaping: a URL in an API answer keeps its & (and <, >)
// as they are, not \u0026.
func TestWriteJSONNoHTMLEscaping(t *testing.T) {
	w := httptest.NewRecorder()
	edge.WriteJSON(w, http.StatusCreated, map[string]string{"upload_url": "https://s.example/u?a=1&b=<2>"})
	if w.Code != http.StatusCreated {
		t.Errorf("status %d, want 201", w.Code)
	}
	if got, want := w.Body.String(), `{"upload_url":"https://s.example/u?a=1&b=<2>"}`+"\n"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	if ct, cc := w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
		t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
	}
}
