package cache

import (
	"net/http"
	"slices"
	"strings"

	"github.com/cellgate/cellgate/zone"
)

// variantsHeader carries the experiment variants of a request, as the
// passport gateway forwards them from the signed passport
// (passport.HeaderVariants, experiment.Header; a test pins the three). It
// is always part of a key, so one variant's response never reaches another.
const variantsHeader = "Cellgate-Experiments"

// baseKey returns the key that requests sharing a response share: method,
// host, normalised target, company, experiment variants and the values of
// the headers the route varies on; ok is false for a request whose response must be its own: not
// GET or HEAD, with a body, a range, a condition or an upgrade.
func baseKey(r *http.Request, vary []string) (key string, ok bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "", false
	}
	return keyOf(r, r.Method, vary)
}

// keyOf is baseKey with the method given.
func keyOf(r *http.Request, method string, vary []string) (key string, ok bool) {
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		return "", false
	}
	h := r.Header
	for _, name := range [...]string{"Range", "Upgrade", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range"} {
		if _, found := h[name]; found {
			return "", false
		}
	}
	company := zone.CompanyFromContext(r.Context())
	var b strings.Builder
	path := r.URL.EscapedPath()
	b.Grow(len(method) + len(r.Host) + len(path) + len(r.URL.RawQuery) + len(company) + 8)
	b.WriteString(method)
	b.WriteByte(0)
	writeLower(&b, r.Host)
	b.WriteByte(0)
	b.WriteString(path)
	b.WriteByte(0)
	writeQuery(&b, r.URL.RawQuery)
	b.WriteByte(0)
	b.WriteString(company)
	b.WriteByte(0)
	b.WriteString(headerValue(h, variantsHeader))
	for _, name := range vary {
		b.WriteByte(0)
		b.WriteString(headerValue(h, name))
	}
	return b.String(), true
}

func writeLower(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
}

// writeQuery writes q's parameters ordered by name, keeping the order of
// one name's values (a list may depend on it). Nothing is decoded: two
// spellings of one value are two keys, which only costs a missed share.
func writeQuery(b *strings.Builder, q string) {
	if q == "" || !strings.Contains(q, "&") {
		b.WriteString(q)
		return
	}
	pairs := strings.Split(q, "&")
	slices.SortStableFunc(pairs, func(x, y string) int {
		xn, _, _ := strings.Cut(x, "=")
		yn, _, _ := strings.Cut(y, "=")
		return strings.Compare(xn, yn)
	})
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p)
	}
}
