package passport

import (
	"net/http"
	"strings"

	"github.com/cellgate/cellgate/edge"
)

// takeSession returns the session token of h (Authorization: Bearer first,
// then the session cookie) and removes from h every session credential and
// every inbound copy of the passport header, variants included: nothing a
// client sent in their place may reach a cell. ambiguous reports two
// Authorization fields, or two session cookies of different values: which
// one the client meant cannot be known (a cookie tossed in from a sibling
// domain comes first as easily as last), so the request is refused.
func (g *Gateway) takeSession(h http.Header) (token string, ambiguous bool) {
	if vs := h["Authorization"]; len(vs) > 0 {
		if v := vs[0]; len(v) > len("Bearer ") && strings.EqualFold(v[:len("Bearer ")], "Bearer ") {
			token = strings.TrimSpace(v[len("Bearer "):])
			ambiguous = len(vs) > 1
			delete(h, "Authorization")
		}
	}
	fromCookie, twice := takeCookie(h, g.cookie, !g.keepCookie)
	if token == "" {
		token, ambiguous = fromCookie, twice
	}
	edge.DeleteHeader(h, g.header)
	return token, ambiguous
}

// takeCookie returns the value of the first cookie called name, whether
// another cookie of that name has another value, and, when remove is set,
// takes every cookie of that name out of the Cookie header. It parses by
// hand so a request without the cookie costs no allocation.
func takeCookie(h http.Header, name string, remove bool) (token string, ambiguous bool) {
	seen := false
	lines := h["Cookie"]
	kept := lines[:0]
	for _, line := range lines {
		found := false
		for rest := line; rest != ""; {
			var pair string
			pair, rest, _ = strings.Cut(rest, ";")
			// Names are compared trimmed, as cookie parsers read them: a
			// "name =value" spelling must not slip past to the cell.
			if n, v, ok := strings.Cut(strings.TrimSpace(pair), "="); ok && strings.TrimSpace(n) == name {
				v = strings.Trim(v, `"`)
				switch {
				case !seen:
					token, seen = v, true
				case v != token:
					ambiguous = true
				}
				found = true
			}
		}
		if found && remove {
			line = withoutCookie(line, name)
		}
		if line != "" {
			kept = append(kept, line)
		}
	}
	switch {
	case len(lines) == 0:
	case len(kept) == 0:
		delete(h, "Cookie")
	default:
		h["Cookie"] = kept
	}
	return token, ambiguous
}

func withoutCookie(line, name string) string {
	var b strings.Builder
	for rest := line; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, ";")
		pair = strings.TrimSpace(pair)
		if n, _, _ := strings.Cut(pair, "="); strings.TrimSpace(n) == name || pair == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(pair)
	}
	return b.String()
}
