package edge

import (
	"net/http"
	"testing"
	"time"
)

// A transport that bounds the response header itself, directly or under
// wrappers that unwrap, needs no timer per request; any other does.
func TestBoundsResponseHeader(t *testing.T) {
	const d = time.Second
	type wrap struct{ http.RoundTripper }
	for _, tt := range []struct {
		name string
		rt   http.RoundTripper
		want bool
	}{
		{"within", &http.Transport{ResponseHeaderTimeout: d}, true},
		{"shorter", &http.Transport{ResponseHeaderTimeout: d / 2}, true},
		{"longer", &http.Transport{ResponseHeaderTimeout: 2 * d}, false},
		{"none", &http.Transport{}, false},
		{"unwraps to within", unwrapper{unwrapper{&http.Transport{ResponseHeaderTimeout: d}}}, true},
		{"unwraps to none", unwrapper{&http.Transport{}}, false},
		{"opaque wrapper", wrap{&http.Transport{ResponseHeaderTimeout: d}}, false},
		{"binding", Binding(http.NotFoundHandler()), false},
	} {
		if got := boundsResponseHeader(tt.rt, d); got != tt.want {
			t.Errorf("%s: boundsResponseHeader = %v, want %v", tt.name, got, tt.want)
		}
	}
}

type unwrapper struct{ base http.RoundTripper }

func (u unwrapper) RoundTrip(r *http.Request) (*http.Response, error) { return u.base.RoundTrip(r) }
func (u unwrapper) Unwrap() http.RoundTripper                         { return u.base }
