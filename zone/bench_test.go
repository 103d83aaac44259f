package zone

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

func BenchmarkCachingDirectoryHit(b *testing.B) {
	static, _ := NewStaticDirectory(map[string]Zone{"42": us01})
	c, err := NewCachingDirectory(static)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	c.Lookup(ctx, "42")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Lookup(ctx, "42"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDetect measures finding and validating the company of a request.
func BenchmarkDetect(b *testing.B) {
	for _, bc := range []struct{ name, target, header string }{
		{"header", "/rest/v1.0/projects", "42"},
		{"path", "/rest/v1.0/companies/42/projects", ""},
		{"query", "/rest/v1.0/projects?page=2&company_id=42", ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := newConfig("DetectCompany", []DetectOption(nil), DetectOption.detectOption)
			if err != nil {
				b.Fatal(err)
			}
			d := newDetector(c)
			req := httptest.NewRequest(http.MethodGet, bc.target, nil)
			if bc.header != "" {
				req.Header.Set(DefaultCompanyHeader, bc.header)
			}
			b.ReportAllocs()
			for b.Loop() {
				if id, err := d.detect(req); id != "42" || err != nil {
					b.Fatal(id, err)
				}
			}
		})
	}
}

// BenchmarkDetectCompanyMiddleware adds the context and request copy.
func BenchmarkDetectCompanyMiddleware(b *testing.B) {
	h := mustDetect(b)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, "/rest/v1.0/projects", nil)
	req.Header.Set(DefaultCompanyHeader, "42")
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

// BenchmarkDetectResolveRoute is the router's whole path to a gateway
// bound in-process that discards the request.
func BenchmarkDetectResolveRoute(b *testing.B) {
	static, _ := NewStaticDirectory(map[string]Zone{"42": us01})
	cache, err := NewCachingDirectory(static)
	if err != nil {
		b.Fatal(err)
	}
	gw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	rt, err := NewRouter(map[string]Endpoint{"us01": {Transport: edge.Binding(gw)}})
	if err != nil {
		b.Fatal(err)
	}
	h := edge.Chain(mustDetect(b), mustResolve(b, cache))(rt)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/rest/v1.0/projects", nil)
		req.Header.Set(DefaultCompanyHeader, "42")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			b.Fatal(rec.Code)
		}
	}
}
