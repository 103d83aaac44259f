package edge

import (
	"net/http"
	"strings"
)

// SameHeaderName reports whether a and b name the same header once ASCII
// case is folded and '_' is read as '-'. CGI, WSGI, Rack and several proxies
// fold both into one name (HTTP_X_COMPANY_ID), so every header the
// edge reads, strips or trusts is compared this way: a spelling it did not
// look at can never reach a cell as the same header.
func SameHeaderName(a, b string) bool {
	return len(a) == len(b) && HasHeaderNamePrefix(a, b)
}

// HasHeaderNamePrefix reports whether name starts with prefix, compared as
// [SameHeaderName] compares.
func HasHeaderNamePrefix(name, prefix string) bool {
	if len(name) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if foldHeaderByte(name[i]) != foldHeaderByte(prefix[i]) {
			return false
		}
	}
	return true
}

func foldHeaderByte(c byte) byte {
	switch {
	case c == '_':
		return '-'
	case 'a' <= c && c <= 'z':
		return c - ('a' - 'A')
	}
	return c
}

// HeaderValues returns every value h holds under any spelling of name (see
// [SameHeaderName]), and whether more than one spelling was present. It
// allocates only when several spellings are.
func HeaderValues(h http.Header, name string) (values []string, spellings int) {
	for k, vs := range h {
		if !SameHeaderName(k, name) {
			continue
		}
		spellings++
		if values == nil {
			values = vs
		} else {
			values = append(append([]string(nil), values...), vs...)
		}
	}
	return values, spellings
}

// DeleteHeader deletes every spelling of name from h (see [SameHeaderName]).
func DeleteHeader(h http.Header, name string) {
	for k := range h {
		if SameHeaderName(k, name) {
			delete(h, k)
		}
	}
}

// ValidHeaderName reports whether name is a valid HTTP header field name
// (an RFC 9110 token).
func ValidHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
