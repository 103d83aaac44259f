package edge_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

func TestClientAddr(t *testing.T) {
	trusted := edge.Trust(func(r *http.Request) bool { return r.RemoteAddr == "10.0.0.1:80" })
	for _, tc := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"192.0.2.1:1234", nil, "192.0.2.1"},
		{"[2001:db8::1%eth0]:1234", nil, "2001:db8::1"},
		{"[::ffff:192.0.2.1]:1234", nil, "192.0.2.1"},
		{"192.0.2.1:1234", []string{"203.0.113.9"}, "192.0.2.1"}, // an untrusted client's header is ignored
		{"10.0.0.1:80", []string{"203.0.113.9, 198.51.100.2"}, "198.51.100.2"},
		{"10.0.0.1:80", []string{"203.0.113.9", "198.51.100.3"}, "198.51.100.3"},
		{"10.0.0.1:80", nil, "10.0.0.1"}, // the hop itself
		{"binding", nil, ""},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		addr, ok := edge.ClientAddr(r, trusted)
		got := ""
		if ok {
			got = addr.String()
		}
		if got != tc.want {
			t.Errorf("%s %q: %q, want %q", tc.remote, tc.xff, got, tc.want)
		}
	}
}
