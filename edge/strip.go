package edge

import (
	"net/http"
	"strings"
)

// StripInternal deletes, from every untrusted request, the headers a client
// must never be able to set: every header whose name starts with the
// internal prefix ([DefaultInternalPrefix] unless [WithInternalPrefix]),
// the names given with [WithStripHeaders], and Forwarded, X-Forwarded-* and
// X-Real-Ip. Names match case-insensitively with '_' read as '-', because
// proxies and frameworks that fold '_' into '-' have turned such variants
// into forgeries. Trusted requests ([WithTrust]) pass untouched.
func StripInternal(opts ...Option) func(http.Handler) http.Handler {
	c := newConfig(opts)
	prefixes := []string{normalizeHeaderName(c.prefix), "X-FORWARDED-"}
	names := map[string]bool{"FORWARDED": true, "X-REAL-IP": true}
	for _, n := range c.strip {
		names[normalizeHeaderName(n)] = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !c.trust(r) {
				for name := range r.Header {
					n := normalizeHeaderName(name)
					if names[n] || hasAnyPrefix(n, prefixes) {
						delete(r.Header, name)
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// normalizeHeaderName upper-cases ASCII letters and reads '_' as '-'.
func normalizeHeaderName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '_':
			return '-'
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
}
