package cache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// benchWriter is a ResponseWriter that keeps nothing.
type benchWriter struct{ h http.Header }

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) WriteHeader(int)             {}
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }

var body = []byte("ok")

var tiny = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) })

func benchServe(b *testing.B, h http.Handler, r *http.Request) {
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// The overhead of the Coalescer on requests it cannot coalesce: compare
// with BenchmarkDirect.
func BenchmarkDirect(b *testing.B) {
	benchServe(b, tiny, who("GET", "/rest/v1.0/projects?page=2&per_page=100", "42", "session:a"))
}

func BenchmarkCoalescerNotCoalescable(b *testing.B) {
	c, _ := NewCoalescer()
	b.Run("post", func(b *testing.B) {
		benchServe(b, c.Middleware(tiny), who("POST", "/rest/v1.0/projects?page=2&per_page=100", "42", "session:a"))
	})
	b.Run("hit-for-miss", func(b *testing.B) {
		r := who("GET", "/rest/v1.0/projects?page=2&per_page=100", "42", "session:a")
		k, _ := baseKey(r, nil)
		c.markKey(k, false)
		benchServe(b, c.Middleware(tiny), r)
	})
}

// A lone GET through a flight of its own (the upstream on another
// goroutine).
func BenchmarkCoalescerLoneRequest(b *testing.B) {
	c, _ := NewCoalescer(WithoutHitForMiss())
	benchServe(b, c.Middleware(tiny), who("GET", "/rest/v1.0/projects?page=2&per_page=100", "42", "session:a"))
}

func BenchmarkCacheHit(b *testing.B) {
	c, _ := NewCache()
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, s-maxage=3600")
		io.WriteString(w, "ok")
	}))
	r := who("GET", "/rest/v1.0/projects?page=2&per_page=100", "42", "session:a")
	h.ServeHTTP(httptest.NewRecorder(), r)
	benchServe(b, h, r)
}

func BenchmarkCacheBypass(b *testing.B) {
	c, _ := NewCache()
	benchServe(b, c.Middleware(tiny), who("POST", "/rest/v1.0/projects", "42", "session:a"))
}

// stampWriter notes when its header was written.
type stampWriter struct {
	h  http.Header
	at time.Time
}

func (w *stampWriter) Header() http.Header { return w.h }
func (w *stampWriter) WriteHeader(int) {
	if w.at.IsZero() {
		w.at = time.Now()
	}
}
func (w *stampWriter) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	return len(p), nil
}

// BenchmarkBurst1000 joins 1,000 identical requests to one upstream call
// and reports how much later than the leader each follower's header was
// written (follower-lag-p50/p99/max, µs), and the upstream calls per
// burst (target 1).
func BenchmarkBurst1000(b *testing.B) {
	const n = 1000
	var p50, p99, worst, calls float64
	for b.Loop() {
		c, _ := NewCoalescer(WithoutHitForMiss())
		cell := newGatedCell(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public")
			w.Write(body)
		})
		h := c.Middleware(cell)
		ws := make([]*stampWriter, n)
		var wg sync.WaitGroup
		for i := range n {
			ws[i] = &stampWriter{h: http.Header{}}
			wg.Add(1)
			go func() {
				defer wg.Done()
				h.ServeHTTP(ws[i], who("GET", "/rest/v1.0/projects", "42", "session:a"))
			}()
		}
		for waiters(c) < n {
			runtime.Gosched()
		}
		cell.open()
		wg.Wait()
		var leader time.Time
		for _, w := range ws {
			if w.h.Get("Cache-Status") == "" {
				leader = w.at
			}
		}
		lags := make([]float64, 0, n)
		for _, w := range ws {
			if w.h.Get("Cache-Status") != "" {
				lags = append(lags, float64(w.at.Sub(leader))/float64(time.Microsecond))
			}
		}
		slices.Sort(lags)
		p50 += lags[len(lags)/2]
		p99 += lags[len(lags)*99/100]
		worst = max(worst, lags[len(lags)-1])
		calls += float64(cell.calls.Load())
	}
	k := float64(b.N)
	b.ReportMetric(p50/k, "follower-lag-p50-µs")
	b.ReportMetric(p99/k, "follower-lag-p99-µs")
	b.ReportMetric(worst, "follower-lag-max-µs")
	b.ReportMetric(calls/k, "upstream-calls")
}
