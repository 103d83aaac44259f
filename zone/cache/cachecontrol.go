package cache

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// directives are the Cache-Control directives this package reads.
// Durations are -1 when absent.
type directives struct {
	public, private, noStore, noCache, mustRevalidate bool
	maxAge, sMaxAge, swr, sie                         time.Duration
}

// parseCacheControl reads every Cache-Control field line of h. A
// directive whose value does not parse is read as the strictest meaning
// (RFC 9111 §4.2.1: an invalid max-age is stale; private="x" and
// no-cache="x" are read as unqualified).
func parseCacheControl(h http.Header) directives {
	d := directives{maxAge: -1, sMaxAge: -1, swr: -1, sie: -1}
	for _, line := range h.Values("Cache-Control") {
		for len(line) > 0 {
			var item string
			item, line = nextItem(line)
			name, value, _ := strings.Cut(item, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			value = strings.Trim(strings.TrimSpace(value), `"`)
			switch name {
			case "public":
				d.public = true
			case "private":
				d.private = true
			case "no-store":
				d.noStore = true
			case "no-cache":
				d.noCache = true
			case "must-revalidate", "proxy-revalidate":
				d.mustRevalidate = true
			case "max-age":
				d.maxAge = seconds(value)
			case "s-maxage":
				d.sMaxAge = seconds(value)
			case "stale-while-revalidate":
				d.swr = seconds(value)
			case "stale-if-error":
				d.sie = seconds(value)
			}
		}
	}
	return d
}

// nextItem splits the first comma-separated item off s, minding quotes.
func nextItem(s string) (item, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '\\':
			if quoted {
				i++
			}
		case ',':
			if !quoted {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// seconds reads a delta-seconds value; an invalid one is 0 (stale at
// once), a huge one is capped.
func seconds(v string) time.Duration {
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil && len(v) > 0 && strings.Trim(v, "0123456789") == "":
		return maxDelta // all digits, too big: RFC 9111 §1.2.2
	case err != nil || n < 0:
		return 0
	case n > int64(maxDelta/time.Second):
		return maxDelta
	}
	return time.Duration(n) * time.Second
}

const maxDelta = (1<<31 - 1) * time.Second

// shareable reports whether the cell marked a response for every
// principal: public or s-maxage, and not private.
func (d directives) shareable() bool { return (d.public || d.sMaxAge >= 0) && !d.private }

// varyNames returns the canonical header names of h's Vary, and whether
// it holds "*".
func varyNames(h http.Header) (names []string, star bool) {
	for _, line := range h.Values("Vary") {
		for _, f := range strings.Split(line, ",") {
			f = strings.TrimSpace(f)
			switch f {
			case "":
			case "*":
				star = true
			default:
				names = append(names, http.CanonicalHeaderKey(f))
			}
		}
	}
	return names, star
}

// sameValues reports whether a and b carry the same values of every header
// in names (after joining field lines and trimming spaces: RFC 9111 §4.1).
func sameValues(names []string, a, b http.Header) bool {
	for _, n := range names {
		if headerValue(a, n) != headerValue(b, n) {
			return false
		}
	}
	return true
}

func headerValue(h http.Header, name string) string {
	vs := h[name]
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return strings.TrimSpace(vs[0])
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strings.TrimSpace(v)
	}
	return strings.Join(parts, ", ")
}
