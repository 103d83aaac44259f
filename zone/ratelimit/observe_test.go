package ratelimit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/zone"
	"golang.org/x/time/rate"
)

type decisions []string

func (d *decisions) RateLimitDecision(_ context.Context, decision string) { *d = append(*d, decision) }

func TestObserverSeesEveryDecision(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	var seen decisions
	mw, err := New(rate.Limit(1), 2, WithClock(clock.Now), WithObserver(&seen))
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for range 3 {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		h.ServeHTTP(httptest.NewRecorder(), req.WithContext(zone.ContextWithCompany(req.Context(), "1")))
	}
	want := []string{DecisionAllowed, DecisionAllowed, DecisionLimited}
	if len(seen) != 3 || seen[0] != want[0] || seen[1] != want[1] || seen[2] != want[2] {
		t.Fatalf("decisions %v, want %v", seen, want)
	}
}
