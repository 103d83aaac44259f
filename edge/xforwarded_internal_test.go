package edge

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"reflect"
	"testing"
)

// TestSetXForwardedAsHTTPUtil checks that setXForwarded leaves the outbound
// header as httputil's SetXForwarded followed by ReverseProxy's empty
// User-Agent would, in every case that changes the outcome.
func TestSetXForwardedAsHTTPUtil(t *testing.T) {
	for _, tc := range []struct {
		name       string
		remoteAddr string
		tls        bool
		prior      []string // X-Forwarded-For already on the outbound request
		userAgent  []string
	}{
		{name: "plain", remoteAddr: "192.0.2.1:1234"},
		{name: "tls", remoteAddr: "192.0.2.1:1234", tls: true},
		{name: "prior chain", remoteAddr: "192.0.2.1:1234", prior: []string{"198.51.100.7", "203.0.113.9, 10.0.0.1"}},
		{name: "no port", remoteAddr: "192.0.2.1", prior: []string{"198.51.100.7"}},
		{name: "user agent", remoteAddr: "[2001:db8::1]:443", userAgent: []string{"curl/8"}},
		{name: "empty user agent", remoteAddr: "192.0.2.1:1", userAgent: []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := httptest.NewRequest("GET", "http://api.example/x", nil)
			in.RemoteAddr = tc.remoteAddr
			if tc.tls {
				in.TLS = &tls.ConnectionState{}
			}
			out := func() *httputil.ProxyRequest {
				o := in.Clone(in.Context())
				o.Header = http.Header{"Accept": {"*/*"}}
				if tc.prior != nil {
					o.Header["X-Forwarded-For"] = tc.prior
				}
				if tc.userAgent != nil {
					o.Header["User-Agent"] = tc.userAgent
				}
				return &httputil.ProxyRequest{In: in, Out: o}
			}
			want, got := out(), out()
			want.SetXForwarded()
			if _, ok := want.Out.Header["User-Agent"]; !ok {
				want.Out.Header.Set("User-Agent", "") // as ReverseProxy does after Rewrite
			}
			setXForwarded(got)
			if !reflect.DeepEqual(got.Out.Header, want.Out.Header) {
				t.Errorf("header\n got %q\nwant %q", got.Out.Header, want.Out.Header)
			}
		})
	}
}
