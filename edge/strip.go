package edge

import (
	"net/http"
)

// StripInternal deletes, from every untrusted request, the headers a client
// must never be able to set: every header whose name starts with the
// internal prefix ([DefaultInternalPrefix] unless [WithInternalPrefix]),
// the names given with [WithStripHeaders], and Forwarded, X-Forwarded-* and
// X-Real-Ip. Names match case-insensitively with '_' read as '-', because
// proxies and frameworks that fold '_' into '-' have turned such variants
// into forgeries. Trusted requests ([WithTrust]) pass untouched.
//
// It panics, at construction, on an option it does not read or an invalid
// one (see [Option]).
func StripInternal(opts ...Option) func(http.Handler) http.Handler {
	c := mustConfig("StripInternal", opts, "WithInternalPrefix", "WithStripHeaders", "WithTrust")
	var prefixes []string
	if c.prefix != "" {
		prefixes = append(prefixes, c.prefix)
	}
	prefixes = append(prefixes, "X-Forwarded-")
	names := append([]string{"Forwarded", "X-Real-Ip"}, c.strip...)
	internal := func(name string) bool {
		for _, p := range prefixes {
			if HasHeaderNamePrefix(name, p) {
				return true
			}
		}
		for _, n := range names {
			if SameHeaderName(name, n) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !c.trust(r) {
				for name := range r.Header {
					if internal(name) {
						delete(r.Header, name)
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
