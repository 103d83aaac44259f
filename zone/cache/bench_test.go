package cache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
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
