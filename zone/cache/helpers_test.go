package cache

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"github.com/cellgate/cellgate/zone"
)

// who makes a request of company and principal for target.
func who(method, target, company, principal string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	ctx := zone.ContextWithCompany(r.Context(), company)
	if principal != "" {
		ctx = edge.ContextWithPrincipal(ctx, principal)
	}
	return r.WithContext(ctx)
}

// gatedCell answers after release is closed, counting its calls; respond
// writes each answer.
type gatedCell struct {
	calls   atomic.Int64
	release chan struct{}
	respond func(w http.ResponseWriter, r *http.Request)
}

func newGatedCell(respond func(w http.ResponseWriter, r *http.Request)) *gatedCell {
	return &gatedCell{release: make(chan struct{}), respond: respond}
}

func (g *gatedCell) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.calls.Add(1)
	select {
	case <-g.release:
	case <-r.Context().Done():
		http.Error(w, "gone", http.StatusBadGateway)
		return
	}
	g.respond(w, r)
}

func (g *gatedCell) open() { close(g.release) }

// waiters returns how many requests read the flight of every key.
func waiters(c *Coalescer) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, f := range c.flights {
		f.mu.Lock()
		n += len(f.subs)
		f.mu.Unlock()
	}
	return n
}

func waitWaiters(t *testing.T, c *Coalescer, n int) {
	t.Helper()
	testwait.Until(t, 10*time.Second, "requests waiting on a flight", func() bool { return waiters(c) >= n })
}

// result is one request's answer.
type result struct {
	status int
	header http.Header
	body   string
}

// fire runs each request through h concurrently and returns the answers
// in order, once every request has joined (wait) and the cell was opened.
func fire(t *testing.T, h http.Handler, reqs []*http.Request, started func()) []result {
	t.Helper()
	out := make([]result, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			res := rec.Result()
			b, _ := io.ReadAll(res.Body)
			out[i] = result{res.StatusCode, res.Header, string(b)}
		}()
	}
	started()
	wg.Wait()
	return out
}

// events counts the events an Observer is told.
type events struct {
	mu sync.Mutex
	n  map[string]int
}

func (e *events) CacheEvent(_ context.Context, ev string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		e.n = map[string]int{}
	}
	e.n[ev]++
}

func (e *events) count(ev string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n[ev]
}

func newCoalescer(t *testing.T, opts ...CoalescerOption) *Coalescer {
	t.Helper()
	c, err := NewCoalescer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
