package edge_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

// TestOptionsInvalid: an invalid value, a nil option and the zero value of
// a shared option type are refused at construction, by an error naming the
// constructor and the option; nothing panics.
func TestOptionsInvalid(t *testing.T) {
	newProxy := func(o ...edge.ProxyOption) error {
		_, err := edge.NewProxy(func(*http.Request) (*url.URL, error) { return nil, nil }, o...)
		return err
	}
	for _, tt := range []struct {
		ctor, opt string
		err       error
	}{
		{"AccessLog", "WithService", second(edge.AccessLog(edge.WithService("gateway\nus01")))},
		{"StripInternal", "WithInternalPrefix", second(edge.StripInternal(edge.WithInternalPrefix("Bad Prefix")))},
		{"StripInternal", "WithStripHeaders", second(edge.StripInternal(edge.WithStripHeaders("X-Ok", "bad:name")))},
		{"StripInternal", "WithKeepHeaders", second(edge.StripInternal(edge.WithKeepHeaders("X-Original-Url", "Cellgate-Zone")))},
		{"StripInternal", "WithKeepHeaders", second(edge.StripInternal(edge.WithKeepHeaders("X-Forwarded-Prefix")))},
		{"SecurityHeaders", "WithCSP", second(edge.SecurityHeaders(edge.WithCSP("default-src 'self'\r\nSet-Cookie: a=b")))},
		{"SecurityHeaders", "WithHSTS", second(edge.SecurityHeaders(edge.WithHSTS(-time.Second)))},
		{"SecurityHeaders", "WithReferrerPolicy", second(edge.SecurityHeaders(edge.WithReferrerPolicy("sometimes")))},
		{"TLSFloor", "WithTLSHeader", second(edge.TLSFloor(0, edge.WithTLSHeader("X Tls")))},
		{"TLSFloor", "0x0200", second(edge.TLSFloor(0x0200))},
		{"BodyIdle", "WithBodyIdle", second(edge.BodyIdle(edge.WithBodyIdle(-time.Second)))},
		{"NewHealth", "WithCheckTimeout", second(edge.NewHealth(nil, edge.WithCheckTimeout(-time.Second)))},
		{"NewProxy", "WithResponseHeaderTimeout", newProxy(edge.WithResponseHeaderTimeout(-time.Second))},
		{"NewProxy", "WithFlushInterval", newProxy(edge.WithFlushInterval(-time.Second))},
		{"ProxyTo", "WithResponseHeaderTimeout", second(edge.ProxyTo("http://up.internal", edge.WithResponseHeaderTimeout(-1)))},
		{"NewServer", "WithReadHeaderTimeout", second(edge.NewServer(http.NotFoundHandler(), edge.WithReadHeaderTimeout(-1)))},
		{"NewServer", "WithKeepAliveTimeout", second(edge.NewServer(http.NotFoundHandler(), edge.WithKeepAliveTimeout(-1)))},
		{"NewServer", "WithMaxHeaderBytes", second(edge.NewServer(http.NotFoundHandler(), edge.WithMaxHeaderBytes(-1)))},
		{"NewServer", "WithShutdownGrace", second(edge.NewServer(http.NotFoundHandler(), edge.WithShutdownGrace(-1)))},
		{"NewServer", "WithConnLimits", second(edge.NewServer(http.NotFoundHandler(), edge.WithConnLimits(edge.ConnLimits{PerClient: -1})))},
		{"NewServer", "WithBodyIdle", second(edge.NewServer(http.NotFoundHandler(), edge.WithBodyIdle(-1)))},
		{"NewServer", "WithServerName", second(edge.NewServer(http.NotFoundHandler(), edge.WithServerName("a\nb")))},
		// A nil option, and the zero value of a shared option type.
		{"RequestID", "zero Option", second(edge.RequestID(nil))},
		{"Recover", "zero Option", second(edge.Recover(edge.LoggerOption{}))},
		{"StripInternal", "zero Option", second(edge.StripInternal(edge.TrustOption{}))},
		{"ProxyTo", "zero Option", second(edge.ProxyTo("http://up.internal", nil))},
		{"NewServer", "zero Option", second(edge.NewServer(http.NotFoundHandler(), edge.BodyIdleTimeoutOption{}))},
	} {
		if tt.err == nil || !strings.Contains(tt.err.Error(), "edge: "+tt.ctor) || !strings.Contains(tt.err.Error(), tt.opt) {
			t.Errorf("%s(invalid %s) = %v, want an error naming both", tt.ctor, tt.opt, tt.err)
		}
	}
}

// TestOptionsZeroIsDefault: zero (or "") in an option means its default.
func TestOptionsZeroIsDefault(t *testing.T) {
	headers := func(opts ...edge.SecurityHeadersOption) http.Header {
		rec := httptest.NewRecorder()
		must.Build(edge.SecurityHeaders(opts...))(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		return rec.Header()
	}
	def, zero := headers(), headers(edge.WithCSP(""), edge.WithHSTS(0), edge.WithReferrerPolicy(""))
	for _, h := range []string{"Strict-Transport-Security", "Referrer-Policy"} {
		if def.Get(h) == "" || zero.Get(h) != def.Get(h) {
			t.Errorf("%s: zero option sends %q, the default %q", h, zero.Get(h), def.Get(h))
		}
	}
	if zero.Get("Content-Security-Policy") == "" {
		t.Error("WithCSP(\"\") sends no CSP")
	}
	srv := must.Build(edge.NewServer(http.NotFoundHandler(), edge.WithReadHeaderTimeout(0), edge.WithKeepAliveTimeout(0),
		edge.WithMaxHeaderBytes(0), edge.WithBodyIdle(0), edge.WithShutdownGrace(0))).HTTPServer()
	if srv.ReadHeaderTimeout != edge.DefaultReadHeaderTimeout || srv.IdleTimeout != edge.DefaultKeepAliveTimeout ||
		srv.MaxHeaderBytes != edge.DefaultMaxHeaderBytes {
		t.Errorf("zero server options: %v %v %v", srv.ReadHeaderTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	for name, err := range map[string]error{
		"WithCheckTimeout(0)":          second(edge.NewHealth(nil, edge.WithCheckTimeout(0))),
		"WithResponseHeaderTimeout(0)": second(edge.ProxyTo("http://up.internal", edge.WithResponseHeaderTimeout(0), edge.WithFlushInterval(0))),
		"WithBodyIdle(0)":              second(edge.BodyIdle(edge.WithBodyIdle(0))),
		"TLSFloor(0)":                  second(edge.TLSFloor(0, edge.WithTLSHeader(""))),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestOptionsOff: a feature on by default is turned off by its own option.
func TestOptionsOff(t *testing.T) {
	rec := httptest.NewRecorder()
	must.Build(edge.SecurityHeaders(edge.WithoutCSP(), edge.WithoutHSTS(), edge.WithoutReferrerPolicy()))(http.NotFoundHandler()).
		ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	for _, h := range []string{"Content-Security-Policy", "Strict-Transport-Security", "Referrer-Policy"} {
		if v := rec.Header().Get(h); v != "" {
			t.Errorf("%s: %q sent", h, v)
		}
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("nosniff turned off with the rest")
	}
}

// TestOptionsMisplaced: an option given to a constructor that does not
// read it is a compile error in the user's module, for each option type.
func TestOptionsMisplaced(t *testing.T) {
	program := func(call string) string {
		return `package main

import (
	"net/http"
	"time"

	"github.com/cellgate/cellgate/edge"
)

var _ = http.NotFoundHandler
var _ = time.Second

func main() { _, _ = ` + call + ` }
`
	}
	for _, tt := range []struct{ ok, misuse, want string }{
		{`edge.SecurityHeaders(edge.WithCSP("default-src 'none'"))`, `edge.AccessLog(edge.WithCSP("default-src 'none'"))`,
			`cannot use edge.WithCSP\(.*\) \(value of interface type edge.SecurityHeadersOption\) as edge.AccessLogOption value`},
		{`edge.StripInternal(edge.WithTrust(nil))`, `edge.SecurityHeaders(edge.WithTrust(nil))`,
			`edge.TrustOption does not implement edge.SecurityHeadersOption`},
		{`edge.ProxyTo("http://up", edge.WithLogger(nil))`, `edge.RequestID(edge.WithLogger(nil))`,
			`edge.LoggerOption does not implement edge.RequestIDOption`},
		{`edge.NewServer(http.NotFoundHandler(), edge.WithBodyIdle(time.Second))`, `edge.ProxyTo("http://up", edge.WithBodyIdle(time.Second))`,
			`edge.BodyIdleTimeoutOption does not implement edge.ProxyOption`},
		{`edge.NewServer(http.NotFoundHandler(), edge.WithShutdownGrace(time.Second))`, `edge.BodyIdle(edge.WithShutdownGrace(time.Second))`,
			`as edge.BodyIdleOption value`},
	} {
		compilecheck.Fails(t, program(tt.ok), program(tt.misuse), regexp.MustCompile(tt.want))
	}
}

// second returns the error of a constructor's result.
func second[T any](_ T, err error) error { return err }
