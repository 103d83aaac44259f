package edge_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

// RequestID allocates what an AccessLog behind it needs with the request's
// scope. Each of two access logs in one chain still counts its own
// response and body, and logs the attributes added inside it; the request
// ID's values on the request and on the response are separate.
func TestAccessLogsBehindRequestID(t *testing.T) {
	var outer, inner logBuffer
	var seen *http.Request
	h := edge.Chain(
		must.Build(edge.RequestID()),
		must.Build(edge.AccessLog(edge.WithLogger(slog.New(slog.NewJSONHandler(&outer, nil))))),
		// A wrapper of its own in between: the inner log must count
		// through it, not through the outer log's.
		func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(struct{ http.ResponseWriter }{w}, r)
			})
		},
		must.Build(edge.AccessLog(edge.WithLogger(slog.New(slog.NewJSONHandler(&inner, nil))))),
	)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		edge.AddLogAttrs(r.Context(), slog.String("company", "42"))
		io.ReadAll(r.Body)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "hello")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/x", strings.NewReader("0123456789")))

	id := edge.RequestIDFromContext(seen.Context())
	for name, b := range map[string]*logBuffer{"outer": &outer, "inner": &inner} {
		lines := b.lines(t)
		if len(lines) != 1 {
			t.Fatalf("%s log: %d lines, want 1", name, len(lines))
		}
		l := lines[0]
		if l["status"] != 201.0 || l["bytes_in"] != 10.0 || l["bytes_out"] != 5.0 || l["request_id"] != id || l["company"] != "42" {
			t.Errorf("%s log line %v: want status 201, 10 bytes in, 5 out, request_id %s, company 42", name, l, id)
		}
	}
	if got := w.Header().Get(edge.RequestIDHeader); got != id {
		t.Fatalf("response X-Request-Id = %q, want %q", got, id)
	}
	seen.Header[edge.RequestIDHeader][0] = "changed"
	if got := w.Header().Get(edge.RequestIDHeader); got != id {
		t.Errorf("changing the request's X-Request-Id changed the response's to %q", got)
	}
}
