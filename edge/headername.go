package edge

import (
	"net/http"
	"strings"
)

// SameHeaderName reports whether a and b name the same header once ASCII
// case is folded and every punctuation character a header name may hold
// ('_', '.', '~' and the other RFC 9110 token symbols) is read as '-'.
// CGI, WSGI, Rack and several proxies fold '-' and '_' into one name
// (HTTP_X_COMPANY_ID), PHP folds '.' as well, and lighttpd every byte but a
// letter or digit, so every header the edge reads, strips or trusts is
// compared this way: a spelling it did not look at (Cellgate.Company.Id)
// can never reach a cell as the same header.
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

func foldHeaderByte(c byte) byte { return headerFold[c] }

// headerFold maps each byte to its folded form (see [SameHeaderName]).
var headerFold = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		switch {
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case strings.IndexByte(tokenSymbols, c) >= 0:
			c = '-'
		}
		t[i] = c
	}
	return t
}()

// tokenSymbols are the characters besides letters and digits that an RFC
// 9110 token, and so a header name, may hold.
const tokenSymbols = "!#$%&'*+-.^_`|~"

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
		case strings.IndexByte(tokenSymbols, c) >= 0:
		default:
			return false
		}
	}
	return true
}
