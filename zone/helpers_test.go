package zone

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
)

// problemCode returns the code of a problem+json answer, or "" for anything else.
func problemCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if rec.Header().Get("Content-Type") != "application/problem+json" {
		return ""
	}
	var p struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %q: %v", rec.Body.String(), err)
	}
	return p.Code
}

// newFakeClock returns a clock that moves only when told.
func newFakeClock() *fakeclock.Clock {
	return fakeclock.New(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
}

// countingDirectory answers from fn and counts calls.
type countingDirectory struct {
	calls atomic.Int64
	fn    func(ctx context.Context, company string) (Zone, error)
}

func (d *countingDirectory) Lookup(ctx context.Context, company string) (Zone, error) {
	d.calls.Add(1)
	return d.fn(ctx, company)
}

// okHandler records the context it was called with.
type okHandler struct {
	called bool
	ctx    context.Context
	req    *http.Request
}

func (h *okHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.called, h.ctx, h.req = true, r.Context(), r
	w.WriteHeader(http.StatusNoContent)
}

var (
	us01 = Zone{Name: "us01", WebBaseURL: "https://us01.procore.com"}
	us02 = Zone{Name: "us02", WebBaseURL: "https://us02.procore.com"}
)

func edgeRequestID(ctx context.Context, id string) context.Context {
	return edge.ContextWithRequestID(ctx, id)
}

// mustDetect returns DetectCompany(opts...), failing t on an error.
func mustDetect(t testing.TB, opts ...DetectOption) func(http.Handler) http.Handler {
	t.Helper()
	mw, err := DetectCompany(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return mw
}

// mustResolve returns Resolve(dir, opts...), failing t on an error.
func mustResolve(t testing.TB, dir Directory, opts ...ResolveOption) func(http.Handler) http.Handler {
	t.Helper()
	mw, err := Resolve(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return mw
}

// mustBaseURL returns NewBaseURLHandler(dir, opts...), failing t on an
// error.
func mustBaseURL(t testing.TB, dir Directory, opts ...BaseURLOption) http.Handler {
	t.Helper()
	h, err := NewBaseURLHandler(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
