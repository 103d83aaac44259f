package edge_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

func TestTrustNetworks(t *testing.T) {
	trust, err := edge.TrustNetworks("10.0.0.0/8", "127.0.0.1/32", "fd00::/8", "192.168.1.7/24")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		remote string
		want   bool
	}{
		{"10.1.2.3:4567", true},
		{"127.0.0.1:80", true},
		{"127.0.0.2:80", false},
		{"[fd00::1]:443", true},
		{"[::ffff:10.0.0.1]:443", true}, // IPv4-mapped IPv6
		{"192.168.1.200:1", true},       // prefix masked
		{"192.168.2.1:1", false},
		{"8.8.8.8:53", false},
		{"10.0.0.1", true}, // no port
		{"binding", false},
		{"", false},
		{"[::1]:80", false},
	}
	for _, tt := range tests {
		t.Run(tt.remote, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			r.Header.Set("X-Forwarded-For", "10.0.0.1") // never read
			if got := trust(r); got != tt.want {
				t.Errorf("trust(%q) = %v, want %v", tt.remote, got, tt.want)
			}
		})
	}
}

func TestTrustNetworksInvalid(t *testing.T) {
	for _, cidr := range []string{"10.0.0.1", "10.0.0.0/33", "example.com/8", ""} {
		if _, err := edge.TrustNetworks(cidr); err == nil {
			t.Errorf("TrustNetworks(%q) accepted", cidr)
		}
	}
}

func TestTrustFuncs(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	yes := func(*http.Request) bool { return true }
	no := func(*http.Request) bool { return false }
	tests := []struct {
		name  string
		trust edge.Trust
		want  bool
	}{
		{"TrustNone", edge.TrustNone, false},
		{"TrustBinding outside a binding", edge.TrustBinding, false},
		{"TrustAny empty", edge.TrustAny(), false},
		{"TrustAny none", edge.TrustAny(no, nil, no), false},
		{"TrustAny one", edge.TrustAny(no, nil, yes), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.trust(r); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTrustBinding(t *testing.T) {
	var trusted bool
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { trusted = edge.TrustBinding(r) })
	resp, err := (&http.Client{Transport: edge.Binding(h)}).Get("http://svc/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !trusted {
		t.Error("TrustBinding false for a request through a Binding")
	}
}

// discardLog is a *log.Logger for servers whose complaints a test expects.
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
