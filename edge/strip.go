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
	var prefixes []string
	if c.prefix != "" {
		prefixes = append(prefixes, normalizeHeaderName(c.prefix))
	}
	prefixes = append(prefixes, "X-FORWARDED-")
	names := []string{"FORWARDED", "X-REAL-IP"}
	for _, n := range c.strip {
		names = append(names, normalizeHeaderName(n))
	}
	internal := func(name string) bool {
		for _, p := range prefixes {
			if len(name) >= len(p) && headerNameIs(name[:len(p)], p) {
				return true
			}
		}
		for _, n := range names {
			if headerNameIs(name, n) {
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

// headerNameIs reports whether name equals norm, a name already passed
// through normalizeHeaderName, with ASCII case folded and '_' read as '-'.
// It runs for every inbound header, so it compares in place rather than
// allocating a normalized copy.
func headerNameIs(name, norm string) bool {
	if len(name) != len(norm) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_':
			c = '-'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		if c != norm[i] {
			return false
		}
	}
	return true
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
