package edge_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

// benchWriter is a ResponseWriter that keeps nothing, so a benchmark
// measures the code under test rather than a recorder's buffers.
type benchWriter struct {
	header http.Header
	n      int
}

func (w *benchWriter) Header() http.Header         { return w.header }
func (w *benchWriter) WriteHeader(int)             {}
func (w *benchWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *benchWriter) Flush()                      {}

func (w *benchWriter) reset() { clear(w.header); w.n = 0 }

func BenchmarkChain(b *testing.B) {
	for _, bc := range []struct {
		name    string
		handler slog.Handler
	}{
		{"log-json-discard", slog.NewJSONHandler(io.Discard, nil)}, // the line is built and encoded
		{"log-disabled", slog.DiscardHandler},
	} {
		b.Run(bc.name, func(b *testing.B) {
			logger := slog.New(bc.handler)
			h := edge.Chain(
				must.Build(edge.RequestID()),
				must.Build(edge.AccessLog(edge.WithLogger(logger))),
				must.Build(edge.Recover(edge.WithLogger(logger))),
				must.Build(edge.StripInternal()),
			)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				edge.AddLogAttrs(r.Context(), slog.String("company", "42"))
				io.WriteString(w, "hello")
			}))
			r := httptest.NewRequest("GET", "/rest/v1/projects/7?sig=x", nil)
			r.Header.Set("X-Request-Id", "client-id")
			w := &benchWriter{header: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				r.Header["Cellgate-Zone"] = []string{"us01"} // stripped every time
				w.reset()
				h.ServeHTTP(w, r)
			}
			if w.n != 5 {
				b.Fatalf("wrote %d bytes", w.n)
			}
		})
	}
}

func BenchmarkProxy(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from upstream")
	}))
	defer up.Close()
	target, _ := url.Parse(up.URL)

	edgeProxy, err := edge.ProxyTo(up.URL, edge.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	bare := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: edge.NewTransport(), // the same settings edge uses by default
	}

	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"edge", edgeProxy},
		{"bare", bare},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := &benchWriter{header: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				bc.h.ServeHTTP(w, httptest.NewRequest("GET", "/rest/v1/projects/7", nil))
			}
			if w.n != 19 {
				b.Fatalf("wrote %d bytes", w.n)
			}
		})
	}
}

func BenchmarkStripInternal(b *testing.B) {
	h := must.Build(edge.StripInternal(edge.WithStripHeaders("X-Passport")))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", "/", nil)
	for _, name := range []string{ // a browser's request, and one forgery
		"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Connection", "Cookie",
		"Priority", "Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Upgrade-Insecure-Requests", "User-Agent",
	} {
		r.Header.Set(name, "x")
	}
	w := &benchWriter{header: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		r.Header["Cellgate_Zone"] = []string{"forged"}
		h.ServeHTTP(w, r)
	}
	if len(r.Header) != 12 {
		b.Fatalf("%d headers left, want 12", len(r.Header))
	}
}
