package redisrate_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/zone/ratelimit"
	"github.com/cellgate/cellgate/zone/ratelimit/redisrate"
)

type decisions struct {
	mu   sync.Mutex
	seen []string
}

func (d *decisions) RateLimitDecision(_ context.Context, decision string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen = append(d.seen, decision)
}

func TestObserverSeesDecisionsAndFailingOpen(t *testing.T) {
	srv := redistest.Start(t)
	var d decisions
	limit, err := redisrate.New(newClient(t, srv.Addr()), 0.1, 1, redisrate.WithKeyPrefix("t:obs:"), redisrate.WithObserver(&d), redisrate.WithTimeout(decisionTimeout))
	if err != nil {
		t.Fatal(err)
	}
	h := limit(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	as(h, "session:a")
	as(h, "session:a")
	srv.Kill()
	as(h, "session:a")
	want := []string{ratelimit.DecisionAllowed, ratelimit.DecisionLimited, ratelimit.DecisionFailedOpen}
	if len(d.seen) != 3 || d.seen[0] != want[0] || d.seen[1] != want[1] || d.seen[2] != want[2] {
		t.Fatalf("decisions %v, want %v", d.seen, want)
	}
}
