package edge_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

// tag returns a middleware that records its name on the way in and out.
func tag(trace *[]string, name string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			*trace = append(*trace, name+">")
			next.ServeHTTP(w, r)
			*trace = append(*trace, "<"+name)
		})
	}
}

func TestChain(t *testing.T) {
	tests := []struct {
		name string
		mw   []string
		want string
	}{
		{"none", nil, "h"},
		{"one", []string{"a"}, "a> h <a"},
		{"first is outermost", []string{"a", "b", "c"}, "a> b> c> h <c <b <a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trace []string
			var mw []func(http.Handler) http.Handler
			for _, n := range tt.mw {
				mw = append(mw, tag(&trace, n))
			}
			h := edge.Chain(mw...)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				trace = append(trace, "h")
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			if got := strings.Join(trace, " "); got != tt.want {
				t.Errorf("order = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestChainReusable(t *testing.T) {
	// A chain is a value: applying it twice builds two independent handlers.
	var trace []string
	c := edge.Chain(tag(&trace, "a"))
	h1 := c(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { trace = append(trace, "1") }))
	h2 := c(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { trace = append(trace, "2") }))
	h1.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	h2.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if got, want := strings.Join(trace, " "), "a> 1 <a a> 2 <a"; got != want {
		t.Errorf("trace = %q, want %q", got, want)
	}
}
