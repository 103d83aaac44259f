package reference

import (
	"fmt"
	"net/http"
)

// Strangler sends the requests that match one of patterns (http.ServeMux
// patterns such as "GET /rest/v1.0/projects/{projectId}/rfis") to
// replacement and every other request to legacy. A route moves from the
// legacy backend to its replacement by adding its pattern to the list, a
// flag away, with no change on the clients' side; a pattern ending in "/"
// moves a whole prefix.
func Strangler(patterns []string, legacy, replacement http.Handler) (h http.Handler, err error) {
	if legacy == nil || (len(patterns) > 0 && replacement == nil) {
		return nil, fmt.Errorf("reference: strangler: a legacy backend, and a replacement for %d patterns, are required", len(patterns))
	}
	if len(patterns) == 0 {
		return legacy, nil // nothing strangled yet: no mux to cross
	}
	mux := http.NewServeMux()
	mux.Handle("/", legacy)
	for _, p := range patterns {
		if err := handle(mux, p, replacement); err != nil {
			return nil, err
		}
	}
	return mux, nil
}

// handle is mux.Handle returning, instead of panicking with, the error of a
// malformed or conflicting pattern, since patterns come from flags.
func handle(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("reference: strangler: pattern %q: %v", pattern, v)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}
